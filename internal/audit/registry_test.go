package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

// TestRecordRuleRegistryComplete names the line that is missing when a rule
// is added in one place but not the others: its index constant and
// recordRules entry (rules.go), its rule_*.go file, and its catalogue entry
// (internal/event/record_rules.go).
func TestRecordRuleRegistryComplete(t *testing.T) {
	seen := map[string]bool{}
	for i, r := range recordRules {
		if r == nil {
			t.Errorf("recordRules[%d] is nil: add the rule's line to recordRules in internal/audit/rules.go", i)
			continue
		}
		if r.info.ID == "" {
			t.Errorf("recordRules[%d] has no catalogue entry: add it to internal/event/record_rules.go and use event.Rule(id) in its rule_*.go", i)
			continue
		}
		if r.check == nil {
			t.Errorf("rule %s has no check function in its rule_*.go", r.info.ID)
		}
		if r.info.Scope != event.ScopeRecord {
			t.Errorf("rule %s: catalogue scope %q, want %q", r.info.ID, r.info.Scope, event.ScopeRecord)
		}
		seen[r.info.ID] = true
	}
	for _, info := range event.RecordRules() {
		if !seen[info.ID] {
			t.Errorf("catalogue lists record rule %s but internal/audit has no rule for it: add rule_%s.go and its recordRules line",
				info.ID, event.RuleAnchor(info.ID))
		}
	}
}
