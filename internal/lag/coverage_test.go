package lag_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestCoverageFromTheSamplerGroup: coverage compares eventwatch's sampler
// group's stored positions with the end offsets, partition by partition,
// on every sampled topic — also one the lag collector itself does not
// watch (lag.topics_exclude). The position lag is end - position (none
// for a partition never committed); a position that stays put
// for sampling_stall_after while records wait is stalled, one that moves
// is not, and an empty partition never committed is never stalled. A
// partition no member is assigned is unowned (not stalled), a topic the
// sampler does not sample is left out. The coverage reads the sampler
// group's description from the lag pass (one DescribeGroups naming it a
// cycle, not two), and its commits too when the lag pass watches every
// sampled topic (one OffsetFetch); when it does not, it fetches them again.
func TestCoverageFromTheSamplerGroup(t *testing.T) {
	t.Run("lag pass leaves a sampled topic out", func(t *testing.T) { coverageFromTheSamplerGroup(t, []string{"audit-only"}, 2) })
	t.Run("lag pass watches every sampled topic", func(t *testing.T) { coverageFromTheSamplerGroup(t, nil, 1) })
}

// coverageFromTheSamplerGroup is TestCoverageFromTheSamplerGroup with
// lag.topics_exclude set to exclude; fetches is how many OffsetFetch
// requests naming the sampler group a cycle sends (DescribeGroups: one).
func coverageFromTheSamplerGroup(t *testing.T, exclude []string, fetches int) {
	f := newFixture(t, map[string]int32{"orders": 3, "audit-only": 2, "unread": 2, "not-sampled": 1})
	f.produce("unread", 1, 3)
	f.produce("not-sampled", 0, 3)
	f.produce("orders", 0, 10)
	f.produce("orders", 1, 4)
	f.produce("audit-only", 0, 6)
	f.produce("audit-only", 1, 5)
	member := samplerMember(t, f, "orders", "audit-only") // owns all five partitions
	commit := func(offs map[string]map[int32]kgo.EpochOffset) {
		t.Helper()
		var err error
		member.CommitOffsetsSync(f.ctx(), offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, cerr error) {
			err = cerr
			for _, tp := range resp.Topics {
				for _, p := range tp.Partitions {
					err = errors.Join(err, kerr.ErrorForCode(p.ErrorCode))
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	commit(map[string]map[int32]kgo.EpochOffset{"orders": {0: {Epoch: -1, Offset: 7}, 1: {Epoch: -1, Offset: 4}}, "audit-only": {0: {Epoch: -1, Offset: 2}}})
	cfg := testConfig()
	cfg.SamplingStall = time.Minute
	cfg.TopicsExclude = exclude // audit-only: sampled, but not a lag topic
	c, _ := f.virtualCollector(cfg, lag.Expectations{SamplerGroup: "eventwatch",
		SampledTopic: func(topic string) bool { return topic != "not-sampled" }}, 40*time.Second)
	asked := countGroupAsks(f, "eventwatch", kmsg.DescribeGroups, kmsg.OffsetFetch)
	cycle := func() *lag.Coverage {
		t.Helper()
		before := asked()
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
		if got := asked(); got[kmsg.DescribeGroups]-before[kmsg.DescribeGroups] != 1 || got[kmsg.OffsetFetch]-before[kmsg.OffsetFetch] != fetches {
			t.Fatalf("a cycle sent %d DescribeGroups and %d OffsetFetch requests naming the sampler group; want 1 and %d",
				got[kmsg.DescribeGroups]-before[kmsg.DescribeGroups], got[kmsg.OffsetFetch]-before[kmsg.OffsetFetch], fetches)
		}
		cov := c.Snapshot().Coverage
		if cov == nil {
			t.Fatal("no coverage")
		}
		return cov
	}
	topic := func(cov *lag.Coverage, name string) lag.CoverageTopic {
		t.Helper()
		for _, ct := range cov.Topics {
			if ct.Topic == name {
				return ct
			}
		}
		t.Fatalf("coverage has no topic %s: %+v", name, cov.Topics)
		return lag.CoverageTopic{}
	}

	cov := cycle() // t = 0: every position seen for the first time
	// orders: 10-7 + 4-4 + partition 2 empty, never committed; audit-only:
	// 6-2 + partition 1 never committed
	if o, a := topic(cov, "orders"), topic(cov, "audit-only"); o.LagRecords != 3 || a.LagRecords != 4 || cov.LagRecords != 7 {
		t.Fatalf("position lag: orders %d, audit-only %d, total %d; want 3, 4, 7", o.LagRecords, a.LagRecords, cov.LagRecords)
	}
	if cov.Partitions != 7 || cov.Stalled != 0 || cov.Unowned != 2 || cov.Unaudited != 2 || !cov.Known || cov.Members != 1 {
		t.Fatalf("first cycle: %+v; want 7 partitions, 5 owned by 1 member, the 2 of unread unowned, none stalled (nothing has stayed put yet)", cov)
	}
	if u := topic(cov, "unread"); u.Unowned != 2 || u.Partitions != 2 {
		t.Fatalf("unread: %+v; want its 2 partitions unowned", u)
	}
	for _, ct := range cov.Topics {
		if ct.Topic == "not-sampled" {
			t.Fatalf("coverage names a topic the sampler does not sample: %+v", ct)
		}
	}
	cycle()       // t = 40 s: under a minute
	cov = cycle() // t = 80 s: orders/0, audit-only/0 and audit-only/1 waited a minute without moving
	if o, a := topic(cov, "orders"), topic(cov, "audit-only"); o.Stalled != 1 || a.Stalled != 2 {
		t.Fatalf("after 80 s: orders %d stalled, audit-only %d; want 1 (partition 0; 1 is caught up, 2 empty) and 2", o.Stalled, a.Stalled)
	}
	if u := topic(cov, "unread"); u.Stalled != 0 || u.Unowned != 2 || cov.Unaudited != 5 {
		t.Fatalf("after 80 s: unread %+v, unaudited %d; want its 2 partitions unowned (not stalled), 5 unaudited", u, cov.Unaudited)
	}
	commit(map[string]map[int32]kgo.EpochOffset{"orders": {0: {Epoch: -1, Offset: 9}, 1: {Epoch: -1, Offset: 4}}, "audit-only": {0: {Epoch: -1, Offset: 6}, 1: {Epoch: -1, Offset: 5}}})
	cov = cycle() // positions moved: not stalled; audit-only caught up
	if cov.Stalled != 0 || topic(cov, "orders").LagRecords != 1 || topic(cov, "audit-only").LagRecords != 0 {
		t.Fatalf("after the positions moved: %d stalled, orders lag %d, audit-only lag %d; want 0, 1, 0",
			cov.Stalled, topic(cov, "orders").LagRecords, topic(cov, "audit-only").LagRecords)
	}
}

// countGroupAsks counts, from now on, the requests of the given keys
// (DescribeGroups, OffsetFetch) the cluster receives that name group; the
// returned function reads the counts.
func countGroupAsks(f *fixture, group string, keys ...kmsg.Key) func() map[kmsg.Key]int {
	var mu sync.Mutex
	counts := map[kmsg.Key]int{}
	for _, k := range keys {
		f.cluster.ControlKey(int16(k), func(req kmsg.Request) (kmsg.Response, error, bool) {
			f.cluster.KeepControl()
			var names []string
			switch r := req.(type) {
			case *kmsg.DescribeGroupsRequest:
				names = r.Groups
			case *kmsg.OffsetFetchRequest:
				names = append(names, r.Group)
				for _, g := range r.Groups {
					names = append(names, g.Group)
				}
			}
			if slices.Contains(names, group) {
				mu.Lock()
				counts[k]++
				mu.Unlock()
			}
			return nil, nil, false
		})
	}
	return func() map[kmsg.Key]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(counts)
	}
}

// samplerMember joins the group eventwatch on topics as its only member,
// committing nothing itself, and returns once it is assigned every
// partition of them.
func samplerMember(t *testing.T, f *fixture, topics ...string) *kgo.Client {
	t.Helper()
	cl := kfaketest.Client(t, f.cluster, kgo.ConsumerGroup("eventwatch"), kgo.ConsumeTopics(topics...), kgo.DisableAutoCommit())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	wait.Within(t, 15*time.Second, "the member assigned every partition", func() bool {
		described, err := f.adm.DescribeGroups(f.ctx(), "eventwatch")
		if err != nil {
			return false
		}
		g := described["eventwatch"]
		n := 0
		for _, parts := range g.AssignedPartitions() {
			n += len(parts)
		}
		return n == 5
	})
	return cl
}

// TestListedTopics: a cycle keeps its metadata's topics and partition
// counts for the sampler's topic listing (Listed), for as long as the
// caller accepts its age.
func TestListedTopics(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 3, "payments": 1})
	c, _ := f.collector(testConfig(), lag.Expectations{})
	if _, ok := c.Listed(time.Hour); ok {
		t.Fatal("a listing before the first cycle")
	}
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	l, ok := c.Listed(time.Hour)
	if !ok || len(l.Partitions) != 2 || l.Partitions["orders"] != 3 || l.Partitions["payments"] != 1 {
		t.Fatalf("Listed = %+v, %v; want orders 3 and payments 1", l, ok)
	}
	if _, ok := c.Listed(0); ok {
		t.Fatal("a listing older than the age asked for")
	}
}
