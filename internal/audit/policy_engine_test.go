package audit

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// TestCustomPolicyOverridesAndWaivers runs the example custom policy's
// allow list, topic overrides and waivers through an engine.
func TestCustomPolicyOverridesAndWaivers(t *testing.T) {
	p, err := policy.LoadPolicy(filepath.Join("..", "..", "examples", "policies", "custom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	at := func(day string) func(*Options) {
		return func(o *Options) {
			ts, _ := time.Parse(time.DateOnly, day)
			o.Now = func() time.Time { return ts.Add(12 * time.Hour) }
		}
	}
	engine := func(mod func(*Options)) *Engine {
		o := Options{Profile: p}
		mod(&o)
		e, err := NewEngine(o)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ev := func(topic string, key []byte, meta map[string]string) event.Record {
		return event.Record{Topic: topic, Key: key, Value: awEvent(meta), Timestamp: testNow}
	}
	cases := []struct {
		name string
		day  string
		rec  event.Record
		want []string
	}{
		{"allowed extra field", "2026-03-01", ev("content", []byte("k"), map[string]string{"meta.tenant": `"acme"`}), nil},
		{"unknown field is an error", "2026-03-01", ev("content", []byte("k"), map[string]string{"meta.shard": `1`}), []string{"envelope.unknown_field"}},
		{"topic override turns rules off", "2026-03-01", ev("legacy.books", []byte("k"), map[string]string{"meta.type": `"content.book.publish"`, "meta.shard": "1"}), nil},
		{"waiver active on its last day", "2026-12-31", ev("legacy.import", nil, nil), nil},
		{"waiver expired", "2027-01-01", ev("legacy.import", nil, nil), []string{"key.missing"}},
		{"waiver only covers its topic", "2026-03-01", ev("legacy.other", nil, nil), []string{"key.missing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := engine(at(tc.day)).Check(&tc.rec)
			var got []string
			for _, v := range res.Violations {
				if v.Rule != "envelope.invalid_timestamp" {
					got = append(got, v.Rule)
				}
			}
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Fatalf("violations %v, want %v (%+v)", got, tc.want, res.Violations)
			}
		})
	}
	sev, ok := p.Applies("key.missing", "legacy.import", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if ok {
		t.Fatalf("Applies under an active waiver = %v, %v", sev, ok)
	}
	if sev, ok := p.Applies("naming.event_type", "legacy.books", time.Time{}); !ok || sev != event.SeverityWarning {
		t.Fatalf("per-topic severity = %v, %v", sev, ok)
	}
}
