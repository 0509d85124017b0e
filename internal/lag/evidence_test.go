package lag_test

import (
	"bytes"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// TestIdleThenBurst is the defect of issue 21: a caught-up group on a topic
// idle for four minutes receives a burst of two records. Its time lag is the
// age of the first of them (exact, from the record's timestamp), not spread
// over the idle period; without the record lookup the estimate is off by at
// most one interval.
func TestIdleThenBurst(t *testing.T) {
	for _, exact := range []bool{true, false} {
		f := newFixture(t, map[string]int32{"events": 1})
		cfg := testConfig()
		cfg.ExactTimeLag = &exact
		const step = 15 * time.Second
		c, _ := f.virtualCollector(cfg, lag.Expectations{}, step)
		f.produce("events", 0, 5)
		f.commit("g", map[string]map[int32]int64{"events": {0: 5}})
		for range 16 { // four idle minutes, caught up
			if err := c.CollectOnce(f.ctx()); err != nil {
				t.Fatal(err)
			}
		}
		burst := f.clock.now()
		f.produce("events", 0, 2)
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
		g, _ := c.GroupDetail("g")
		p := g.Topics[0].Partitions[0]
		truth := c.Snapshot().Time.Sub(burst).Seconds() // 14 s
		errAllowed := math.Max(1, truth/100)
		if !exact {
			errAllowed = step.Seconds()
		}
		if p.LagRecords != 2 || math.Abs(float64(p.LagSeconds)-truth) > errAllowed {
			t.Fatalf("exact=%t: lag %d, %v s (%s); want 2 records, %v s ± %v", exact, p.LagRecords, p.LagSeconds, p.LagSecondsSource, truth, errAllowed)
		}
		if want := map[bool]string{true: lag.SourceExact, false: lag.SourceEstimated}[exact]; p.LagSecondsSource != want || g.Topics[0].LagSecondsSource != want {
			t.Fatalf("exact=%t: source %q / topic %q, want %q", exact, p.LagSecondsSource, g.Topics[0].LagSecondsSource, want)
		}
	}
}

// TestOwnGroupsHidden: eventwatch's own groups are not reported unless
// lag.show_own_groups is set.
func TestOwnGroupsHidden(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 1})
	f.produce("events", 0, 3)
	f.commit("eventwatch", map[string]map[int32]int64{"events": {0: 1}})
	f.commit("billing", map[string]map[int32]int64{"events": {0: 1}})
	for _, show := range []bool{false, true} {
		cfg := testConfig()
		cfg.ShowOwnGroups = show
		c, _ := f.collector(cfg, lag.Expectations{OwnGroups: []string{"eventwatch", "eventwatch-leader"}})
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
		_, own := c.Snapshot().Group("eventwatch")
		_, user := c.Snapshot().Group("billing")
		if own != show || !user {
			t.Fatalf("show_own_groups %t: eventwatch reported %t, billing %t", show, own, user)
		}
	}
}

// TestNeverCommittedGroup: real Kafka answers OffsetFetch for a group that
// exists but never committed with GROUP_ID_NOT_FOUND. That is a group
// without committed offsets, not an admin error: the cycle succeeds.
func TestNeverCommittedGroup(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 1})
	f.produce("events", 0, 3)
	f.commit("idle-sampler", map[string]map[int32]int64{"events": {0: 3}}) // makes the group listed
	f.failOffsetFetchWith("idle-sampler", kerr.GroupIDNotFound.Code)
	c, reg := f.collector(testConfig(), lag.Expectations{})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatalf("cycle with a never-committed group: %v", err)
	}
	g, ok := c.Snapshot().Group("idle-sampler")
	if !ok || g.Error != "" || g.Stale || len(g.Topics) != 0 || g.Status != lag.StatusOK {
		t.Fatalf("never-committed group = %+v", g)
	}
	if v := seriesValue(t, reg, "eventwatch_collector_success"); v != 1 {
		t.Fatalf("collector_success = %v, want 1", v)
	}
}

// TestDataLossAndTimeToLoss deletes records below a group's committed
// offset twice: the lost-records counter counts each deleted range once,
// and the time to loss is retention.ms minus the age of the first unread
// record.
func TestDataLossAndTimeToLoss(t *testing.T) {
	f := newFixture(t, nil)
	f.createTopic("events", 1, map[string]*string{"retention.ms": kadm.StringPtr("600000")})
	c, reg := f.virtualCollector(testConfig(), lag.Expectations{}, 15*time.Second)
	produced := f.clock.now()
	f.produce("events", 0, 20)
	f.commit("g", map[string]map[int32]int64{"events": {0: 4}})
	steps := []struct {
		deleteBefore int64
		lost         int64
	}{{0, 0}, {7, 3}, {7, 3}, {12, 8}, {12, 8}}
	for i, s := range steps {
		if s.deleteBefore > 0 {
			f.deleteBefore("events", 0, s.deleteBefore)
		}
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
		g, _ := c.GroupDetail("g")
		tl := g.Topics[0]
		age := c.Snapshot().Time.Sub(produced).Seconds()
		if tl.LostRecords != s.lost || g.LostRecords != s.lost || float64(tl.TimeToLoss) != 600-age {
			t.Fatalf("step %d: lost %d (group %d), time to loss %v; want %d and %v", i, tl.LostRecords, g.LostRecords, tl.TimeToLoss, s.lost, 600-age)
		}
	}
	if v := seriesValue(t, reg, "eventwatch_consumergroup_lost_records_total"); v != 8 {
		t.Fatalf("eventwatch_consumergroup_lost_records_total = %v, want 8", v)
	}
}

// seriesValue is the value of the first series of family name that g
// gathers (a gauge, counter or untyped); it fails the test when there is
// none.
func seriesValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		}
		return m.GetUntyped().GetValue()
	}
	t.Fatalf("no series %s", name)
	return 0
}

// TestSamplerGroupBeforeFirstCommit: on a fresh data directory the first
// lag cycle runs before eventwatch's own sampler group committed, and
// real Kafka answers its OffsetFetch with GROUP_ID_NOT_FOUND. That is
// expected, not an admin error: nothing is logged or counted, the cycle
// succeeds and coverage still reports the partitions (unpositioned). Any
// other OffsetFetch error of that group is still logged and counted.
func TestSamplerGroupBeforeFirstCommit(t *testing.T) {
	for _, tc := range []struct {
		code   int16
		logged bool
	}{{kerr.GroupIDNotFound.Code, false}, {kerr.GroupAuthorizationFailed.Code, true}} {
		f := newFixture(t, map[string]int32{"events": 2})
		f.produce("events", 0, 3)
		f.failOffsetFetchWith("eventwatch", tc.code)
		var logs bytes.Buffer
		reg := prometheus.NewRegistry()
		c, err := lag.New(testConfig(), f.cl, lag.Expectations{SamplerGroup: "eventwatch"}, reg,
			slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		cycleErr := c.CollectOnce(f.ctx())
		cov := c.Snapshot().Coverage
		if cov == nil || cov.Partitions != 2 {
			t.Fatalf("code %d: coverage %+v, want the 2 partitions of events", tc.code, cov)
		}
		errs := familySum(t, reg, "eventwatch_admin_errors_total")
		text := logs.String()
		if got := strings.Contains(text, "admin request failed"); got != tc.logged || (errs > 0) != tc.logged || (cycleErr != nil) != tc.logged {
			t.Fatalf("code %d: logged %t, admin errors %v, cycle error %v; want logged, counted and failed = %t\n%s",
				tc.code, got, errs, cycleErr, tc.logged, text)
		}
	}
}

// familySum adds up every series of counter family name in g (0 when the
// family has none).
func familySum(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
