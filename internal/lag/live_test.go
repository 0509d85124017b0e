package lag_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
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
	cfg := testConfig()
	cfg.Granularity = lag.GranularityPartition
	c, reg := f.virtualCollector(cfg, lag.Expectations{}, 30*time.Second)
	f.produce("events", 0, 5)
	f.produce("events", 1, 7)
	f.consume("classic-g", "events", 12)
	f.consume("nextgen-g", "events", 12, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))
	f.produce("events", 0, 3)
	f.produce("events", 1, 4)
	for range 3 { // members own the partitions but never commit again: STALL once data waited stop_after
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
	if n := countSeries(t, reg, "eventwatch_consumergroup_partition_lag_seconds"); n != 4 {
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

// TestClassicDescribeNotFoundFallsBack makes the cluster behave like real
// Kafka 4.x towards a KIP-848 group listed as classic: DescribeGroups
// answers GROUP_ID_NOT_FOUND. The collector must describe it again with
// ConsumerGroupDescribe and still report its members and lag.
func TestClassicDescribeNotFoundFallsBack(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 1})
	f.produce("events", 0, 4)
	f.consume("ng", "events", 4, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))
	f.produce("events", 0, 2)
	f.cluster.ControlKey(kmsg.ListGroups.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		f.cluster.KeepControl()
		req := kr.(*kmsg.ListGroupsRequest)
		resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
		resp.Version = req.Version
		if len(req.TypesFilter) == 1 && req.TypesFilter[0] == "classic" {
			g := kmsg.NewListGroupsResponseGroup()
			g.Group, g.ProtocolType, g.GroupState, g.GroupType = "ng", "consumer", "Stable", "classic"
			resp.Groups = append(resp.Groups, g)
		}
		return resp, nil, true
	})
	var describedClassic atomic.Bool
	f.cluster.ControlKey(kmsg.DescribeGroups.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		f.cluster.KeepControl()
		describedClassic.Store(true)
		req := kr.(*kmsg.DescribeGroupsRequest)
		resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
		resp.Version = req.Version
		for _, name := range req.Groups {
			g := kmsg.NewDescribeGroupsResponseGroup()
			g.Group, g.ErrorCode = name, kerr.GroupIDNotFound.Code
			resp.Groups = append(resp.Groups, g)
		}
		return resp, nil, true
	})
	c, _ := f.collector(testConfig(), lag.Expectations{})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	g, ok := c.Snapshot().Group("ng")
	if !describedClassic.Load() || !ok || g.Protocol != lag.ProtocolConsumer || g.Members != 1 || g.LagRecords != 2 || g.Error != "" {
		t.Fatalf("ng = %+v (DescribeGroups asked: %v), want consumer protocol, 1 member, lag 2", g, describedClassic.Load())
	}
}
