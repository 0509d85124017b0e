package lag_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

// TestOneWholeClusterMetadataPerCycle: a cycle asks for the whole
// cluster's metadata once and lists the start and end offsets of the
// partitions it names; kadm's listings asked for it again before each
// (three answers of every partition's replicas when none is cached). The
// offsets listed from it are exact.
func TestOneWholeClusterMetadataPerCycle(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 3, "payments": 2})
	f.produce("orders", 0, 7)
	f.produce("orders", 2, 4)
	f.produce("payments", 1, 5)
	f.commit("billing", map[string]map[int32]int64{"orders": {0: 2, 1: 0, 2: 4}, "payments": {1: 1}})
	// A broker that takes a moment to answer a whole-cluster Metadata
	// request, and a client that has none cached: every whole-cluster
	// answer the cycle needs is asked for.
	var whole atomic.Int64
	f.cluster.ControlKey(kmsg.Metadata.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		f.cluster.KeepControl()
		if kr.(*kmsg.MetadataRequest).Topics == nil {
			whole.Add(1)
			<-time.After(50 * time.Millisecond)
		}
		return nil, nil, false
	})
	c, err := lag.New(testConfig(), kfaketest.Client(t, f.cluster), lag.Expectations{}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	if n := whole.Load(); n != 1 {
		t.Errorf("the cycle asked for the whole cluster's metadata %d times, want once", n)
	}
	g, ok := c.GroupDetail("billing")
	if !ok {
		t.Fatal("billing missing from the snapshot")
	}
	for _, tl := range g.Topics {
		if want, _ := f.wantLag("billing", tl.Topic); tl.LagRecords != want {
			t.Errorf("billing on %s: lag %d, want %d", tl.Topic, tl.LagRecords, want)
		}
	}
	if len(g.Topics) != 2 {
		t.Errorf("billing: %d topics, want 2", len(g.Topics))
	}
}
