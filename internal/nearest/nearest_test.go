package nearest

import (
	"errors"
	"slices"
	"testing"
)

func TestCheck(t *testing.T) {
	teams := []string{"payments", "content", "platform", "search"}
	rules := []string{"naming.event_type", "naming.topic", "key.missing", "envelope.missing_field", "trace.missing_context"}
	for _, tt := range []struct {
		kind, name string
		known      []string
		want       string
	}{
		{"team", "", teams, ""},
		{"team", "payments", teams, ""},
		{"team", "paymnts", teams, `unknown team "paymnts"; did you mean payments?`},
		{"team", "Content", teams, `unknown team "Content"; did you mean content?`},
		{"team", "nosuchteam", teams, `unknown team "nosuchteam"; known teams: content, payments, platform, search`},
		{"rule", "no.such.rule", append(rules, "size.blob_field"), `unknown rule "no.such.rule"; known rules include envelope.missing_field, key.missing, naming.event_type, naming.topic, size.blob_field (6 in all)`},
		{"rule", "naming.eventtype", rules, `unknown rule "naming.eventtype"; did you mean naming.event_type?`},
		{"rule", "missing", rules, `unknown rule "missing"; did you mean envelope.missing_field, key.missing or trace.missing_context?`},
		{"topic", "orders", nil, `unknown topic "orders"; no topic is known yet`},
	} {
		err := Check(tt.kind, tt.name, tt.known)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Check(%s, %q) = %q, want %q", tt.kind, tt.name, got, tt.want)
		}
	}
	var u *Unknown
	if err := Check("rule", "no.such.rule", rules[:2]); !errors.As(err, &u) || u.Total != 2 || len(u.Known) != 2 || u.Error() != `unknown rule "no.such.rule"; known rules: naming.event_type, naming.topic` {
		t.Errorf("Check with two known rules = %v", err)
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"orders", "order", 1},
		{"ordres", "orders", 2}, {"flaw", "lawn", 2}, {"ünï", "uni", 2},
	} {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzCheck: Check never panics; it returns nil exactly when the name is
// empty or known; every suggestion is a known name, at most MaxSuggestions.
func FuzzCheck(f *testing.F) {
	f.Add("paymnts", "payments,content")
	f.Add("", "a")
	f.Add("ü\xff", "\xff,ü")
	f.Fuzz(func(t *testing.T, name, list string) {
		known := splitComma(list)
		err := Check("team", name, known)
		if (err == nil) != (name == "" || slices.Contains(known, name)) {
			t.Fatalf("Check(%q, %q) = %v", name, known, err)
		}
		var u *Unknown
		if errors.As(err, &u) {
			if len(u.Nearest) > MaxSuggestions {
				t.Fatalf("%d suggestions", len(u.Nearest))
			}
			for _, s := range append(u.Nearest, u.Known...) {
				if !slices.Contains(known, s) {
					t.Fatalf("suggested %q, not known", s)
				}
			}
		}
	})
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
