package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"strings"
	"testing"
	"time"
)

// withTestRule swaps the key.missing slot of the registry (and its
// catalogue entry, which the policy package checks rule_settings against)
// for a rule that declares a setting, as a catalogue entry and rule_*.go
// file would, for the duration of the test: it flags keys shorter than
// min_key_bytes.
func withTestRule(t *testing.T) {
	t.Helper()
	saved := recordRules[rKeyMissing]
	info := event.RuleInfo{ID: "key.missing", Severity: event.SeverityWarning, Scope: event.ScopeRecord, Summary: "test rule",
		Settings: []event.Setting{{Key: "min_key_bytes", Default: "4", Min: 1, Help: "shortest key accepted"}}}
	rule := &recordRule{
		info: info,
		check: func(c *evalCtx) {
			if n := c.setting(rKeyMissing, 0); len(c.rec.Key) < n {
				c.reportf(rKeyMissing, "", "key shorter than %d bytes", n)
			}
		},
		on: onEnvelope,
	}
	recordRules[rKeyMissing] = rule
	restore, err := event.OverrideRuleForTest(info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { recordRules[rKeyMissing] = saved; restore() })
}

const settingsPolicy = `name: s
envelope:
  fields:
    id: {path: event_id}
    type: {path: event_type}
rules:
  size:
    max_bytes: 1024
severities:
  key.missing: warning
rule_settings:
  key.missing:
    min_key_bytes: 6
topics:
  - match: "short.*"
    rule_settings:
      key.missing:
        min_key_bytes: 2
`

func TestRuleSettingsResolvePerTopic(t *testing.T) {
	withTestRule(t)
	p, err := policy.ParsePolicy("s.yaml", []byte(settingsPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(Options{Profile: p, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	flagged := func(topic, key string) bool {
		res := e.Check(&event.Record{Topic: topic, Key: []byte(key), Value: []byte(`{"event_id":"x","event_type":"a.b.c"}`)})
		for _, v := range res.Violations {
			if v.Rule == "key.missing" {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		topic, key string
		want       bool
	}{
		{"orders", "abcde", true},   // policy: 6
		{"orders", "abcdef", false}, // policy: 6
		{"short.x", "abc", false},   // topic override: 2
		{"short.x", "a", true},      // topic override: 2
	} {
		if got := flagged(tc.topic, tc.key); got != tc.want {
			t.Errorf("topic %s key %q: flagged %v, want %v", tc.topic, tc.key, got, tc.want)
		}
	}
	p, err = policy.ParsePolicy("s.yaml", []byte(strings.Replace(settingsPolicy, "rule_settings:\n  key.missing:\n    min_key_bytes: 6\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	e, _ = NewEngine(Options{Profile: p, Now: func() time.Time { return testNow }})
	if res := e.Check(&event.Record{Topic: "orders", Key: []byte("abc"), Value: []byte(`{"event_id":"x","event_type":"a.b.c"}`)}); len(res.Violations) == 0 {
		t.Error("the default (4) did not apply to a 3-byte key")
	}
}

func TestRuleSettingsErrors(t *testing.T) {
	withTestRule(t)
	for _, tc := range []struct{ old, new, want string }{
		{"min_key_bytes: 6", "min_key_bytez: 6", "s.yaml: rule_settings.key.missing.min_key_bytez: unknown setting (key.missing has: min_key_bytes) (line 13)"},
		{"min_key_bytes: 6", "min_key_bytes: 0", "s.yaml: rule_settings.key.missing.min_key_bytes: must be >= 1, got 0 (line 13)"},
		{"min_key_bytes: 6", "min_key_bytes: many", `s.yaml: rule_settings.key.missing.min_key_bytes: cannot parse "many" as an integer (line 13)`},
		{"min_key_bytes: 2", "min_key_bytes: -1", "s.yaml: topics[0].rule_settings.key.missing.min_key_bytes: must be >= 1, got -1 (line 18)"},
		{"rule_settings:\n  key.missing:", "rule_settings:\n  key.absent:", "s.yaml: rule_settings.key.absent: unknown record rule id (line 12)"},
	} {
		_, err := policy.ParsePolicy("s.yaml", []byte(strings.Replace(settingsPolicy, tc.old, tc.new, 1)))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s -> %s: %v\nwant %s", tc.old, tc.new, err, tc.want)
		}
	}
}

func TestRuleSettingsInRulesMarkdown(t *testing.T) {
	var b strings.Builder
	writeSettingsMarkdown(&b)
	for _, r := range recordRules {
		for _, s := range r.info.Settings {
			if !strings.Contains(b.String(), "| `"+s.YAMLPath(r.info.ID)+"` | `"+r.info.ID+"` |") {
				t.Errorf("settings table lacks %s of %s:\n%s", s.YAMLPath(r.info.ID), r.info.ID, b.String())
			}
		}
	}
	if !strings.Contains(b.String(), "| `rules.size.max_bytes` | `size.event_too_large` | integer, >= 1, required unless the rule is off | none |") {
		t.Errorf("settings table row of rules.size.max_bytes:\n%s", b.String())
	}
	b.Reset()
	withTestRule(t)
	writeSettingsMarkdown(&b)
	if !strings.Contains(b.String(), "| `rule_settings.key.missing.min_key_bytes` | `key.missing` | integer, >= 1 | `4` | shortest key accepted |") {
		t.Fatalf("settings table:\n%s", b.String())
	}
}
