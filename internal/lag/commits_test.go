package lag_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// TestCommitsMatchesDetail: Commits lists exactly the committed offsets the
// test committed (ground truth), the same as every group's detail lists,
// at both granularities, group by group and topic by topic in order; and
// refuses a snapshot of an earlier cycle.
func TestCommitsMatchesDetail(t *testing.T) {
	for _, gran := range []string{lag.GranularityTopic, lag.GranularityPartition} {
		t.Run(gran, func(t *testing.T) {
			f := newFixture(t, map[string]int32{"orders": 3, "payments": 2})
			f.produce("orders", 0, 10)
			f.produce("payments", 1, 9)
			f.commit("billing", map[string]map[int32]int64{"orders": {0: 4, 1: 0, 2: 0}, "payments": {0: 0}})
			f.commit("audit", map[string]map[int32]int64{"payments": {0: 0, 1: 2}})
			cfg := testConfig()
			cfg.Granularity = gran
			c, _ := f.collector(cfg, lag.Expectations{})
			if err := c.CollectOnce(f.ctx()); err != nil {
				t.Fatal(err)
			}
			snap := c.Snapshot()
			var got, fromDetail []string
			if !c.Commits(snap, func(g, topic string, p int32, off int64) {
				got = append(got, fmt.Sprintf("%s %s/%d@%d", g, topic, p, off))
			}) {
				t.Fatal("Commits refused the current snapshot")
			}
			for _, sg := range snap.Groups {
				g, _ := c.GroupDetail(sg.Group)
				for _, tl := range g.Topics {
					for _, pl := range tl.Partitions {
						fromDetail = append(fromDetail, fmt.Sprintf("%s %s/%d@%d", g.Group, tl.Topic, pl.Partition, pl.Committed))
					}
				}
			}
			var want []string
			for g, topics := range f.commits {
				for topic, parts := range topics {
					for p, off := range parts {
						want = append(want, fmt.Sprintf("%s %s/%d@%d", g, topic, p, off))
					}
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, fromDetail) {
				t.Errorf("Commits (in order) = %v\ndetail = %v", got, fromDetail)
			}
			if sorted := slices.Sorted(slices.Values(got)); !slices.Equal(sorted, want) {
				t.Errorf("Commits = %v, want %v", sorted, want)
			}
			if err := c.CollectOnce(f.ctx()); err != nil {
				t.Fatal(err)
			}
			if c.Commits(snap, func(string, string, int32, int64) { t.Error("called for an old snapshot") }) {
				t.Error("Commits accepted a snapshot of an earlier cycle")
			}
		})
	}
}

// TestTopicCommitsOfSkipsUnwanted: TopicCommitsOf passes exactly the
// committed offsets TopicCommits passes for the wanted topics, and nothing
// of the others.
func TestTopicCommitsOfSkipsUnwanted(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 3, "payments": 2})
	f.produce("orders", 0, 10)
	f.produce("payments", 1, 9)
	f.commit("billing", map[string]map[int32]int64{"orders": {0: 4, 1: 0, 2: 0}, "payments": {0: 0}})
	f.commit("audit", map[string]map[int32]int64{"payments": {0: 0, 1: 2}})
	c, _ := f.collector(testConfig(), lag.Expectations{})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	snap := c.Snapshot()
	collect := func(want func(string) bool) []string {
		var out []string
		ok := c.TopicCommitsOf(snap, want, func(g, topic string, committed []int64) {
			out = append(out, fmt.Sprintf("%s %s %v", g, topic, committed))
		})
		if !ok {
			t.Fatal("TopicCommitsOf refused the current snapshot")
		}
		return out
	}
	var all []string
	c.TopicCommits(snap, func(g, topic string, committed []int64) {
		all = append(all, fmt.Sprintf("%s %s %v", g, topic, committed))
	})
	if got := collect(nil); !slices.Equal(got, all) {
		t.Errorf("TopicCommitsOf(nil) = %v, want %v", got, all)
	}
	var asked []string
	got := collect(func(topic string) bool { asked = append(asked, topic); return topic == "payments" })
	want := []string{"audit payments [0 2]", "billing payments [0 " + fmt.Sprint(lag.NotSampled) + "]"}
	if !slices.Equal(got, want) {
		t.Errorf("TopicCommitsOf(payments) = %v, want %v", got, want)
	}
	if len(asked) != 3 { // billing: orders, payments; audit: payments
		t.Errorf("want asked %d times (%v), want 3", len(asked), asked)
	}
	if got := collect(func(string) bool { return false }); len(got) != 0 {
		t.Errorf("TopicCommitsOf(none) = %v, want nothing", got)
	}
}

// TestPublishedWakesAfterEachCycle: a channel from Published is closed
// by the next published snapshot (with its metrics) and by no other; a
// waiter that takes the channel before reading Snapshot misses none.
func TestPublishedWakesAfterEachCycle(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 1})
	f.produce("orders", 0, 3)
	f.commit("billing", map[string]map[int32]int64{"orders": {0: 1}})
	c, scrape := f.collector(testConfig(), lag.Expectations{})
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	first := c.Published()
	if closed(first) || c.Snapshot() != nil {
		t.Fatal("published before any cycle")
	}
	if c.Published() != first {
		t.Fatal("two waiters before one cycle got different channels")
	}
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	if !closed(first) {
		t.Fatal("the first cycle's publication did not close the channel")
	}
	second := c.Published()
	if closed(second) {
		t.Fatal("a channel taken after the publication is already closed")
	}
	cycle := c.Snapshot().Cycle
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	if !closed(second) || c.Snapshot().Cycle != cycle+1 {
		t.Fatalf("the second cycle (snapshot %d after %d) did not close the channel taken before it", c.Snapshot().Cycle, cycle)
	}
	fams, err := scrape.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, fam := range fams {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == "group" && l.GetValue() == "billing")
			}
		}
	}
	if !found {
		t.Fatal("the metrics of the published snapshot are not encoded when it wakes waiters")
	}
}
