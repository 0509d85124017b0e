package lag_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// TestStatusOverCycles drives four member-less groups through three
// collection cycles and checks the Burrow status of each.
func TestStatusOverCycles(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 2})
	cfg := testConfig()
	cfg.LagObjective = 1e-9 // any lag at all breaches it
	c, reg := f.virtualCollector(cfg, lag.Expectations{}, 30*time.Second)
	f.produce("events", 0, 10)
	f.produce("events", 1, 10)
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
		{"stopped", lag.StatusErr, lag.StatusStop, "2 of 2 partitions have data waiting longer than lag.stop_after, no commit progress, and no member owns them"},
		{"caughtup", lag.StatusOK, lag.StatusOK, "all 2 partitions caught up or keeping up"},
		{"slow", lag.StatusWarn, lag.StatusWarn, "2 of 2 partitions are consuming but their lag grew (consumer falling behind)"},
		{"rewound", lag.StatusErr, lag.StatusRewind, "1 of 1 partitions had their committed offset move backwards and not come back"},
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
# HELP eventwatch_consumergroup_status 1 for the group's current status over the sliding window (OK, WARN, ERR, STOP, STALL, REWIND, UNKNOWN when no partition's lag could be listed), 0 for the others.
# TYPE eventwatch_consumergroup_status gauge
` + statusLines("caughtup", "OK") + statusLines("rewound", "ERR", "REWIND") + statusLines("slow", "WARN") + statusLines("stopped", "ERR", "STOP")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "eventwatch_consumergroup_status"); err != nil {
		t.Fatal(err)
	}
}

// statusLines renders the six status series of a group, 1 for those on.
func statusLines(group string, on ...string) string {
	var b strings.Builder
	for _, s := range []string{"ERR", "OK", "REWIND", "STALL", "STOP", "UNKNOWN", "WARN"} {
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

// TestUnknownLagIsNotLag fails the end-offset listing after a caught-up
// cycle: the group is UNKNOWN (not STOP, STALL or WARN), its message says
// the lag is unknown, no lag series is exported for it, and it is OK again
// once end offsets are listed.
func TestUnknownLagIsNotLag(t *testing.T) {
	f := newFixture(t, map[string]int32{"testtopic": 1})
	f.produce("testtopic", 0, 5)
	f.commit("g", map[string]map[int32]int64{"testtopic": {0: 5}})
	c, reg := f.collector(testConfig(), lag.Expectations{})
	var failing atomic.Bool
	f.failEndOffsets(failing.Load)
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	for range 3 {
		_ = c.CollectOnce(f.ctx())
	}
	g, _ := c.GroupDetail("g")
	if g.Status != lag.StatusUnknown || g.Cause != lag.StatusUnknown || g.UnknownPartitions != 1 || g.LagRecords != 0 ||
		g.MaxLag != nil || g.Complete || !strings.Contains(g.Why, "unknown") || strings.Contains(g.Why, "lag 0") {
		t.Fatalf("group with unknown lag = %s/%s unknown %d lag %d max %v complete %v why %q",
			g.Status, g.Cause, g.UnknownPartitions, g.LagRecords, g.MaxLag, g.Complete, g.Why)
	}
	if p := g.Topics[0].Partitions[0]; p.LagKnown || p.Status != lag.StatusUnknown || p.End != -1 {
		t.Fatalf("partition = %+v, want lag unknown", p)
	}
	if n := countSeries(t, reg, "eventwatch_consumergroup_lag_records"); n != 0 {
		t.Fatalf("%d lag series for a group whose lag is unknown, want none", n)
	}
	failing.Store(false)
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.Snapshot().Group("g"); g.Status != lag.StatusOK || g.UnknownPartitions != 0 {
		t.Fatalf("after end offsets are listed again: %s, %d unknown (%s)", g.Status, g.UnknownPartitions, g.Why)
	}
}

// TestBurrowIssue290 is Burrow's issue #290 (and #745) on a cluster: a
// group that committed at the end offset for three cycles and then stopped
// while records keep arriving is STOP at the first cycle at least
// lag.stop_after after the first record it did not read arrived (within
// stop_after plus one interval), whatever its earlier commit cadence; the
// API shows when its committed offset last changed.
func TestBurrowIssue290(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 1})
	cfg := testConfig()
	cfg.StatusWindow = 6
	cfg.StopAfter = time.Minute
	c, _ := f.virtualCollector(cfg, lag.Expectations{}, 15*time.Second)
	var arrived, commitSeen time.Time
	for i := range 12 {
		if i == 3 {
			arrived = f.clock.now() // the first record the group never reads
		}
		f.produce("events", 0, 5)
		if i < 3 {
			f.commit("g", map[string]map[int32]int64{"events": {0: f.produced["events"][0]}})
		}
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
		snap := c.Snapshot()
		if i == 2 {
			commitSeen = snap.Time
		}
		g, _ := c.GroupDetail("g")
		waited := snap.Time.Sub(arrived)
		wantStop := i >= 3 && waited >= cfg.StopAfter
		if (g.Cause == lag.StatusStop) != wantStop || (!wantStop && g.Status == lag.StatusErr) {
			t.Fatalf("cycle %d, %v after the first unread record: %s/%s (%s), want STOP: %t", i, waited, g.Status, g.Cause, g.Why, wantStop)
		}
		if wantStop && waited-15*time.Second < cfg.StopAfter && waited >= cfg.StopAfter+15*time.Second {
			t.Fatalf("STOP only %v after the record arrived, later than stop_after + one interval", waited)
		}
	}
	g, _ := c.GroupDetail("g")
	p := g.Topics[0].Partitions[0]
	if !p.LastCommit.Equal(commitSeen) {
		t.Fatalf("last_commit %v, want the start of the third cycle (%v)", p.LastCommit, commitSeen)
	}
	if g.MaxLag == nil || g.MaxLag.Topic != "events" || g.MaxLag.LagRecords != 45 || !g.Complete || p.LagSecondsSource != lag.SourceExact {
		t.Fatalf("max lag %+v complete %v, want events/0 with lag 45, exact, and a complete window", g.MaxLag, g.Complete)
	}
}

// TestWhyAgreesWithVerdict is the demo's slow consumer as its "why" text
// tells it: a group that advances, slower than records arrive, and has
// not moved its offset for the last two cycles (less than stop_after) is
// WARN falling behind, and the sentence says so with the rates and the
// age of the oldest unread record — never "waiting ... without
// progress", which is what STOP and STALL mean.
func TestWhyAgreesWithVerdict(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 1})
	cfg := testConfig()
	cfg.StatusWindow = 6
	const step = 10 * time.Second
	c, _ := f.virtualCollector(cfg, lag.Expectations{}, step)
	f.produce("events", 0, 10)
	commits := []int64{2, 4, 6, 8, 8, 8}
	for i, at := range commits {
		f.commit("slow", map[string]map[int32]int64{"events": {0: at}})
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		f.produce("events", 0, 10)
	}
	g, _ := c.GroupDetail("slow")
	p := g.Topics[0].Partitions[0]
	if g.Status != lag.StatusWarn || p.Reason != lag.ReasonFallingBehind || p.WaitingSeconds <= 0 {
		t.Fatalf("status %s, partition %s (%s) waiting %v s; want WARN, falling behind, not moved lately (%s)", g.Status, p.Status, p.Reason, p.WaitingSeconds, g.Why)
	}
	// 6 records consumed and 50 produced over the 50 s between the window's
	// first and last cycle
	for _, want := range []string{"1 of 1 partitions are consuming but their lag grew (consumer falling behind)",
		"events/0 lag 52, consuming 0.12 records/s while 1 arrive, oldest unread record"} {
		if !strings.Contains(g.Why, want) {
			t.Errorf("why %q does not say %q", g.Why, want)
		}
	}
	if strings.Contains(g.Why, "without progress") || strings.Contains(g.Why, "waiting") {
		t.Errorf("why %q says the falling-behind consumer waits without progress", g.Why)
	}
}
