package lag_test

import (
	"slices"
	"sort"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// TestEveryRuleFires breaks every expectation at once and checks that the
// collector reports a violation under each id of lag.Rules, and under no
// other: an id spelled differently where it is reported would show here.
func TestEveryRuleFires(t *testing.T) {
	f := newFixture(t, nil)
	f.createTopic("content.events", 1, map[string]*string{"retention.ms": kadm.StringPtr("86400000")})
	f.createTopic("content.deadletter", 1, map[string]*string{"retention.ms": kadm.StringPtr("86400000")})
	f.createTopic("orders.placed", 1, nil)
	f.produce("orders.placed", 0, 1)
	exp := lag.Expectations{
		MinReplicationFactor: 5, MinRetention: 7 * day, MinBrokers: 4, DLQRetention: 30 * day,
		ExpectedConsumers: map[string][]string{"orders.placed": {"fulfilment"}},
		ProducingServices: func() []string { return []string{"content", "orders"} },
		NotIdempotent: func() []lag.Finding {
			return []lag.Finding{{Resource: "relay@orders.placed", Message: "group relay is not idempotent for orders.placed"}}
		},
	}
	c, _ := f.collector(testConfig(), exp)
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatalf("cycle: %v", err)
	}
	seen := map[string]bool{}
	for _, v := range c.Snapshot().Violations {
		seen[v.Rule] = true
	}
	var fired []string
	for id := range seen {
		fired = append(fired, id)
	}
	sort.Strings(fired)
	want := lag.Rules()
	sort.Strings(want)
	if !slices.Equal(fired, want) {
		t.Fatalf("rules fired %v, want every one of lag.Rules() %v", fired, want)
	}
}
