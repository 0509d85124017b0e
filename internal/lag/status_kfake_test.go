package lag_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// TestStatusOverCycles drives four member-less groups through three
// collection cycles and checks the Burrow status of each.
func TestStatusOverCycles(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 2})
	f.produce("events", 0, 10)
	f.produce("events", 1, 10)
	cfg := testConfig()
	cfg.LagObjective = 1e-9 // any lag at all breaches it
	c, reg := f.collector(cfg, lag.Expectations{})
	rewind := []int64{8, 4, 6}
	for i := range 3 {
		f.commit("stopped", map[string]map[int32]int64{"events": {0: 2, 1: 2}})
		f.commit("caughtup", map[string]map[int32]int64{"events": {0: f.produced["events"][0], 1: f.produced["events"][1]}})
		f.commit("slow", map[string]map[int32]int64{"events": {0: int64(3 + i), 1: int64(3 + i)}})
		f.commit("rewound", map[string]map[int32]int64{"events": {0: rewind[i]}})
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		f.produce("events", 0, 5)
		f.produce("events", 1, 5)
	}
	snap := c.Snapshot()
	tests := []struct {
		group         string
		status, cause lag.Status
		why           string
	}{
		{"stopped", lag.StatusErr, lag.StatusStop, "2 of 2 partitions have lag and no commit progress, and no member owns them"},
		{"caughtup", lag.StatusOK, lag.StatusOK, "all 2 partitions caught up"},
		{"slow", lag.StatusWarn, lag.StatusWarn, "2 of 2 partitions are committing but their lag never shrank"},
		{"rewound", lag.StatusErr, lag.StatusRewind, "1 of 1 partitions had their committed offset move backwards"},
	}
	for _, tt := range tests {
		g, ok := snap.Group(tt.group)
		if !ok {
			t.Fatalf("group %s missing", tt.group)
		}
		if g.Status != tt.status || g.Cause != tt.cause || !strings.Contains(g.Why, tt.why) {
			t.Errorf("%s: status %s cause %s why %q; want %s %s %q", tt.group, g.Status, g.Cause, g.Why, tt.status, tt.cause, tt.why)
		}
	}
	stopped, _ := snap.Group("stopped")
	caughtUp, _ := snap.Group("caughtup")
	if stopped.BreachSeconds <= 0 || caughtUp.BreachSeconds != 0 {
		t.Errorf("objective breach: stopped %v s, caught up %v s; want > 0 and 0", stopped.BreachSeconds, caughtUp.BreachSeconds)
	}
	want := `
# HELP eventwatch_consumergroup_status 1 for the group's current status over the sliding window (OK, WARN, ERR, STOP, STALL, REWIND), 0 for the others.
# TYPE eventwatch_consumergroup_status gauge
` + statusLines("caughtup", "OK") + statusLines("rewound", "ERR", "REWIND") + statusLines("slow", "WARN") + statusLines("stopped", "ERR", "STOP")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "eventwatch_consumergroup_status"); err != nil {
		t.Fatal(err)
	}
}

// statusLines renders the six status series of a group, 1 for those on.
func statusLines(group string, on ...string) string {
	var b strings.Builder
	for _, s := range []string{"ERR", "OK", "REWIND", "STALL", "STOP", "WARN"} {
		v := "0"
		for _, o := range on {
			if o == s {
				v = "1"
			}
		}
		b.WriteString(`eventwatch_consumergroup_status{group="` + group + `",status="` + s + `"} ` + v + "\n")
	}
	return b.String()
}
