package lag

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"slices"
	"sort"
	"testing"
)

// TestRulesAreTheCatalogueClusterRules ties the rule ids the collector
// evaluates (the registry clusterRules in rules.go) to the catalogue's
// cluster rules (internal/event/cluster_rules.go),
// which the daemon walks to read severities from the profile: a rule
// missing on either side would be silently off.
func TestRulesAreTheCatalogueClusterRules(t *testing.T) {
	var catalogue []string
	for _, r := range event.ClusterRules() {
		if r.Scope != event.ScopeCluster {
			t.Errorf("%s is listed as a cluster rule with scope %q", r.ID, r.Scope)
		}
		catalogue = append(catalogue, r.ID)
		if defaultSeverity[r.ID] != string(r.Severity) || r.Severity == "" {
			t.Errorf("%s: default severity %q, catalogue %q", r.ID, defaultSeverity[r.ID], r.Severity)
		}
	}
	evaluated := Rules()
	sort.Strings(evaluated)
	if !slices.Equal(evaluated, catalogue) {
		t.Fatalf("lag evaluates %v, the catalogue lists cluster rules %v", evaluated, catalogue)
	}
	for _, id := range evaluated {
		if info, ok := event.LookupRule(id); !ok || info.Scope != event.ScopeCluster {
			t.Errorf("LookupRule(%q) = %+v, %v", id, info, ok)
		}
	}
}
