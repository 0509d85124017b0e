package lag_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consume joins group with a member that reads n records from topic and
// commits them, then stays in the group without reading further.
func (f *fixture) consume(group, topic string, n int, opts ...kgo.Opt) *kgo.Client {
	f.t.Helper()
	all := append([]kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)
	cl := kfaketest.Client(f.t, f.cluster, all...)
	ctx := f.ctx()
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			f.t.Fatalf("%s read %d of %d records: %v", group, got, n, err)
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		f.t.Fatalf("%s commit: %v", group, err)
	}
	return cl
}

// TestLiveGroupsBothProtocols checks a classic group and a KIP-848 group
// that each read and committed 12 records and then fell 7 behind.
func TestLiveGroupsBothProtocols(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 2})
	f.produce("events", 0, 5)
	f.produce("events", 1, 7)
	f.consume("classic-g", "events", 12)
	f.consume("nextgen-g", "events", 12, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))
	f.produce("events", 0, 3)
	f.produce("events", 1, 4)

	cfg := testConfig()
	cfg.Granularity = lag.GranularityPartition
	c, reg := f.collector(cfg, lag.Expectations{})
	for range 3 { // members own the partitions but never commit again: STALL
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatalf("collect: %v", err)
		}
	}
	for group, protocol := range map[string]string{"classic-g": lag.ProtocolClassic, "nextgen-g": lag.ProtocolConsumer} {
		g, ok := c.GroupDetail(group)
		if !ok {
			t.Fatalf("%s missing", group)
		}
		if g.Protocol != protocol || g.Members != 1 || g.State == "" || g.LagRecords != 7 || len(g.Topics) != 1 {
			t.Fatalf("%s = protocol %q members %d state %q lag %d topics %d; want %s, 1 member, lag 7",
				group, g.Protocol, g.Members, g.State, g.LagRecords, len(g.Topics), protocol)
		}
		for _, p := range g.Topics[0].Partitions {
			if !p.Owned {
				t.Errorf("%s: partition %d not owned by the live member", group, p.Partition)
			}
		}
		if g.Status != lag.StatusErr || g.Cause != lag.StatusStall {
			t.Errorf("%s: status %s/%s (%s), want ERR/STALL", group, g.Status, g.Cause, g.Why)
		}
	}
	want := `
# HELP eventwatch_consumergroup_partition_lag_records Records a consumer group still has to read on one partition (only with lag.granularity: partition).
# TYPE eventwatch_consumergroup_partition_lag_records gauge
eventwatch_consumergroup_partition_lag_records{group="classic-g",partition="0",topic="events"} 3
eventwatch_consumergroup_partition_lag_records{group="classic-g",partition="1",topic="events"} 4
eventwatch_consumergroup_partition_lag_records{group="nextgen-g",partition="0",topic="events"} 3
eventwatch_consumergroup_partition_lag_records{group="nextgen-g",partition="1",topic="events"} 4
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "eventwatch_consumergroup_partition_lag_records"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "eventwatch_consumergroup_partition_lag_seconds"); n != 4 {
		t.Fatalf("%d partition time-lag series, want 4", n)
	}
}

// TestRunPublishesUntilCancelled runs the collector loop and stops it.
func TestRunPublishesUntilCancelled(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 1})
	f.produce("events", 0, 3)
	f.commit("g", map[string]map[int32]int64{"events": {0: 1}})
	c, _ := f.collector(testConfig(), lag.Expectations{})
	ctx, cancel := context.WithCancel(f.ctx())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.After(15 * time.Second)
	for c.Snapshot() == nil {
		select {
		case <-deadline:
			t.Fatal("no snapshot published by Run")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
	if g, ok := c.Snapshot().Group("g"); !ok || g.LagRecords != 2 {
		t.Fatalf("group g = %+v, want lag 2", g)
	}
}
