package lag_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// failOffsetFetch makes every OffsetFetch request for group answer with a
// group-level error, until the test ends.
func (f *fixture) failOffsetFetch(group string) {
	f.failOffsetFetchWith(group, kerr.UnknownServerError.Code)
}

// failOffsetFetchWith is failOffsetFetch with a chosen error code.
func (f *fixture) failOffsetFetchWith(group string, code int16) {
	f.cluster.ControlKey(kmsg.OffsetFetch.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		f.cluster.KeepControl()
		req := kr.(*kmsg.OffsetFetchRequest)
		if len(req.Groups) != 1 || req.Groups[0].Group != group {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
		resp.Version = req.Version
		rg := kmsg.NewOffsetFetchResponseGroup()
		rg.Group = group
		rg.ErrorCode = code
		resp.Groups = append(resp.Groups, rg)
		return resp, nil, true
	})
}

// failEndOffsets makes ListOffsets requests for end offsets (timestamp -1)
// answer UNKNOWN_SERVER_ERROR on every partition while failing() is true.
func (f *fixture) failEndOffsets(failing func() bool) {
	f.cluster.ControlKey(kmsg.ListOffsets.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		f.cluster.KeepControl()
		req := kr.(*kmsg.ListOffsetsRequest)
		if !failing() || req.Topics[0].Partitions[0].Timestamp != -1 { // -1 asks for the end offset
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
		resp.Version = req.Version
		for _, rt := range req.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.UnknownServerError.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

// TestPartialFailureKeepsTheRest fails one group's offset fetch on the
// second cycle: the other group is updated, the failing one keeps its
// previous lag marked stale, and the error is counted.
func TestPartialFailureKeepsTheRest(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 2})
	f.produce("orders", 0, 6)
	f.produce("orders", 1, 4)
	f.commit("good", map[string]map[int32]int64{"orders": {0: 1, 1: 1}})
	f.commit("bad", map[string]map[int32]int64{"orders": {0: 2, 1: 2}})
	cfg := testConfig()
	cfg.FetchGroupsPerReq = 1 // one group per OffsetFetch, so the failure hits one group
	c, reg := f.collector(cfg, lag.Expectations{})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatalf("first cycle: %v", err)
	}
	badBefore, _ := f.wantLag("bad", "orders")

	f.produce("orders", 0, 10)
	f.failOffsetFetch("bad")
	err := c.CollectOnce(f.ctx())
	if err == nil || !strings.Contains(err.Error(), "offset_fetch") {
		t.Fatalf("second cycle error = %v, want an offset_fetch failure", err)
	}
	snap := c.Snapshot()
	good, _ := snap.Group("good")
	bad, ok := snap.Group("bad")
	if !ok {
		t.Fatal("failing group vanished from the snapshot")
	}
	if want, _ := f.wantLag("good", "orders"); good.LagRecords != want || good.Stale {
		t.Errorf("good: lag %d stale %v, want %d fresh", good.LagRecords, good.Stale, want)
	}
	if !bad.Stale || bad.LagRecords != badBefore || !strings.Contains(bad.Error, "UNKNOWN_SERVER_ERROR") {
		t.Errorf("bad: lag %d stale %v error %q, want previous lag %d, stale, with error", bad.LagRecords, bad.Stale, bad.Error, badBefore)
	}
	if snap.Success || len(snap.Errors) != 1 {
		t.Errorf("snapshot success %v errors %v, want one error", snap.Success, snap.Errors)
	}
	want := adminErrorsText(map[string]int{"offset_fetch": 1}) + `# HELP eventwatch_collector_success 1 when the background collector's last cycle succeeded completely, else 0.
# TYPE eventwatch_collector_success gauge
eventwatch_collector_success{collector="lag"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "eventwatch_admin_errors_total", "eventwatch_collector_success"); err != nil {
		t.Fatal(err)
	}
	if n := countSeries(t, reg, "eventwatch_consumergroup_lag_records"); n != 2 {
		t.Fatalf("%d lag series, want 2 (both groups still reported)", n)
	}
}

// TestListOffsetsFailure fails the end-offset listing of a cycle: lag of
// that cycle is unknown (End -1) rather than wrong, and it is counted.
func TestListOffsetsFailure(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 1})
	f.produce("orders", 0, 6)
	f.commit("g", map[string]map[int32]int64{"orders": {0: 1}})
	c, reg := f.collector(testConfig(), lag.Expectations{})
	f.failEndOffsets(func() bool { return true })
	_ = c.CollectOnce(f.ctx())
	g, ok := c.GroupDetail("g")
	if !ok || len(g.Topics) != 1 {
		t.Fatalf("group g = %+v, want one topic", g)
	}
	if p := g.Topics[0].Partitions[0]; p.End != -1 || p.LagRecords != 0 || p.LagSeconds.Known() {
		t.Fatalf("partition without end offset = %+v, want End -1 and no lag", p)
	}
	want := adminErrorsText(map[string]int{"list_end_offsets": 1})
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "eventwatch_admin_errors_total"); err != nil {
		t.Fatal(err)
	}
}

// TestListGroupsFailureKeepsKnownGroups fails ListGroups on every broker:
// groups known from the previous cycle are still fetched and reported.
func TestListGroupsFailureKeepsKnownGroups(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 1})
	f.produce("orders", 0, 6)
	f.commit("g", map[string]map[int32]int64{"orders": {0: 1}})
	c, _ := f.collector(testConfig(), lag.Expectations{})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	f.produce("orders", 0, 4)
	f.cluster.ControlKey(kmsg.ListGroups.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		f.cluster.KeepControl()
		resp := kr.ResponseKind().(*kmsg.ListGroupsResponse)
		resp.Version = kr.GetVersion()
		resp.ErrorCode = kerr.UnknownServerError.Code
		return resp, nil, true
	})
	if err := c.CollectOnce(f.ctx()); err == nil || !strings.Contains(err.Error(), "list_groups") {
		t.Fatalf("cycle error = %v, want list_groups failures", err)
	}
	g, ok := c.Snapshot().Group("g")
	if want, _ := f.wantLag("g", "orders"); !ok || g.Stale || g.LagRecords != want {
		t.Fatalf("group g = %+v, want fresh lag %d", g, want)
	}
}

// adminErrorsText is the exposition of eventwatch_admin_errors_total with
// every request kind, at 0 unless counted in failed.
func adminErrorsText(failed map[string]int) string {
	var b strings.Builder
	b.WriteString("# HELP eventwatch_admin_errors_total Failed Kafka admin API requests, by request kind.\n" +
		"# TYPE eventwatch_admin_errors_total counter\n")
	reqs := slices.Clone(lag.AdminRequests)
	slices.Sort(reqs)
	for _, r := range reqs {
		fmt.Fprintf(&b, "eventwatch_admin_errors_total{request=%q} %d\n", r, failed[r])
	}
	return b.String()
}
