package policy

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
)

// TestEveryRulesSettingHasAView: each setting with a place under rules:
// in the registry is read into the Profile (ruleViews), and ruleViews
// names no setting the registry lacks.
func TestEveryRulesSettingHasAView(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range fixedSettings() {
		seen[s.Path] = true
		if ruleViews[s.Path] == nil {
			t.Errorf("%s (rule %s) is in the registry but ruleViews (rules.go) has no line for it", s.Path, s.Rule)
		}
		if !strings.HasPrefix(s.Path, "rules.") || strings.Count(s.Path, ".") != 2 || !strings.HasSuffix(s.Path, "."+s.Key) {
			t.Errorf("%s: a fixed setting's path is rules.<section>.<key>", s.Path)
		}
	}
	for path := range ruleViews {
		if !seen[path] {
			t.Errorf("ruleViews has %s, which no rule declares", path)
		}
	}
}

// TestRegistryDefaultsDecode: every default in the registry is a value of
// its setting's kind.
func TestRegistryDefaultsDecode(t *testing.T) {
	doc := &policyDoc{Severities: map[string]string{}}
	for _, s := range fixedSettings() {
		if s.Required {
			continue
		}
		if _, err := settingValue(doc, s); err != nil {
			t.Errorf("%s: %v", s.Path, err)
		}
	}
}

// TestRulesSettingsDecodeThroughRegistry: the values a policy writes under
// rules: reach the profile, with the registry's defaults where it writes
// none.
func TestRulesSettingsDecodeThroughRegistry(t *testing.T) {
	p, err := ParsePolicy("r.yaml", []byte(`name: r
envelope:
  fields:
    id: {path: id}
    type: {path: type}
rules:
  naming: {event_type: '^[a-z.]+$', action_segment: -2, type_version: '\.v([0-9]+)$'}
  size: {max_bytes: 2048, per_type: {big.thing: 4096}}
  blob: {max_text_bytes: 100, ignore_paths: ["data.note"]}
  timestamp: {max_future: 1h}
  dlq: {error_header_prefixes: [x-error-], require_wrapper: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	if seg, ok := p.ActionSegment(); !ok || seg != -2 || p.EventTypePattern().String() != "^[a-z.]+$" || p.TopicPattern() != nil ||
		p.TypeVersionPattern() == nil {
		t.Errorf("naming: segment %d %v, event type %v, topic %v", seg, ok, p.EventTypePattern(), p.TopicPattern())
	}
	if p.MaxBytesFor("big.thing", 0) != 4096 || p.MaxBytesFor("other", 0) != 2048 {
		t.Errorf("size: %d %d", p.MaxBytesFor("big.thing", 0), p.MaxBytesFor("other", 0))
	}
	if b := p.Blob(); !reflect.DeepEqual(b, Blob{MaxTextBytes: 100, IgnorePaths: []string{"data.note"}}) {
		t.Errorf("blob %+v", b)
	}
	if ts := p.Timestamp(); ts != (Timestamp{MaxFuture: time.Hour}) {
		t.Errorf("timestamp %+v", ts)
	}
	want := DLQ{OriginalFields: []string{"original_event", "original", "event"}, ErrorFields: []string{"error", "error_context"},
		ErrorHeaderPrefixes: []string{"x-error-"}}
	if d := p.DLQ(); !reflect.DeepEqual(d, want) || d.MustWrap() {
		t.Errorf("dlq %+v, want %+v (defaults from the registry)", d, want)
	}
	bare, err := ParsePolicy("bare.yaml", []byte("name: bare\nenvelope: {fields: {id: {path: id}, type: {path: type}}}\nrules: {size: {max_bytes: 1}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := bare.DLQ(); !d.MustWrap() || len(d.OriginalFields) != 3 || bare.Blob().MaxTextBytes != 0 || bare.Timestamp().MaxAge != 0 {
		t.Errorf("defaults: dlq %+v, blob %+v, timestamp %+v", d, bare.Blob(), bare.Timestamp())
	}
	if d := mustProfile(t, "huleedu").DLQ(); d.MustWrap() {
		t.Error("huleedu sets require_wrapper: false")
	}
}

// TestRuleSettingsKeyOfAFixedSetting: a fixed setting written under
// rule_settings says where it belongs.
func TestRuleSettingsKeyOfAFixedSetting(t *testing.T) {
	src, err := BuiltinPolicy("huleedu")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParsePolicy("h.yaml", append(src, []byte("\nrule_settings:\n  size.event_too_large:\n    max_bytes: 10\n")...))
	if err == nil || !strings.Contains(err.Error(), "rule_settings.size.event_too_large.max_bytes: unknown setting (size.event_too_large reads it at rules.size.max_bytes)") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := event.LookupRule(event.RuleSizeEventTooLarge); !ok {
		t.Fatal("catalogue lacks size.event_too_large")
	}
}

func mustProfile(t *testing.T, name string) *Profile {
	t.Helper()
	p, err := LoadProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
