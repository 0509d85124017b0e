package event

import "testing"

func TestCatalogueIDsUniqueAndSorted(t *testing.T) {
	seen := map[string]bool{}
	rules := Rules()
	for i, r := range rules {
		if seen[r.ID] {
			t.Errorf("rule id %s listed twice", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || r.Standard == "" || r.Severity == "" {
			t.Errorf("rule %s: summary, standard and severity are required", r.ID)
		}
		if i > 0 && rules[i-1].Scope == r.Scope && rules[i-1].ID > r.ID {
			t.Errorf("rules not sorted within scope: %s before %s", rules[i-1].ID, r.ID)
		}
	}
	if got, want := len(rules), len(RecordRules())+len(ClusterRules())+len(WebSocketRules()); got != want {
		t.Errorf("Rules() has %d entries, want %d", got, want)
	}
}

func TestLookupRule(t *testing.T) {
	if r, ok := LookupRule(RuleKeyMissing); !ok || r.Scope != ScopeRecord {
		t.Errorf("LookupRule(%q) = %+v, %v", RuleKeyMissing, r, ok)
	}
	if r, ok := LookupRule(RuleDLQMissing); !ok || r.Scope != ScopeCluster {
		t.Errorf("LookupRule(%q) = %+v, %v", RuleDLQMissing, r, ok)
	}
	if _, ok := LookupRule("no.such_rule"); ok {
		t.Error("LookupRule found an unknown id")
	}
	if Rule("no.such_rule").ID != "" {
		t.Error("Rule of an unknown id is not the zero RuleInfo")
	}
}
