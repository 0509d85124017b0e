package lag_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/lag"
)

func TestLagMatchesCommits(t *testing.T) {
	f := newFixture(t, map[string]int32{"orders": 3, "payments": 2})
	for p, n := range []int{10, 7, 0} {
		f.produce("orders", int32(p), n)
	}
	f.produce("payments", 0, 4)
	f.produce("payments", 1, 9)
	f.commit("billing", map[string]map[int32]int64{"orders": {0: 4, 1: 7, 2: 0}, "payments": {0: 1}})
	f.commit("audit", map[string]map[int32]int64{"payments": {0: 4, 1: 2}})
	f.deleteBefore("payments", 1, 5) // audit's offset 2 now points into deleted segments

	c, _ := f.collector(testConfig(), lag.Expectations{})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatalf("collect: %v", err)
	}
	snap := c.Snapshot()
	for _, group := range []string{"billing", "audit"} {
		g, ok := c.GroupDetail(group)
		if !ok {
			t.Fatalf("group %s missing from snapshot %+v", group, snap.Groups)
		}
		if g.Members != 0 || g.Protocol != lag.ProtocolClassic {
			t.Errorf("%s: members %d protocol %q, want 0 classic", group, g.Members, g.Protocol)
		}
		var sum int64
		for _, tl := range g.Topics {
			want, parts := f.wantLag(group, tl.Topic)
			if tl.LagRecords != want {
				t.Errorf("%s on %s: lag %d, want %d", group, tl.Topic, tl.LagRecords, want)
			}
			if len(tl.Partitions) != len(parts) {
				t.Errorf("%s on %s: %d partitions, want %d", group, tl.Topic, len(tl.Partitions), len(parts))
			}
			for _, pl := range tl.Partitions {
				if pl.LagRecords != parts[pl.Partition] || pl.End != f.produced[tl.Topic][pl.Partition] {
					t.Errorf("%s %s/%d: lag %d end %d, want lag %d end %d", group, tl.Topic, pl.Partition,
						pl.LagRecords, pl.End, parts[pl.Partition], f.produced[tl.Topic][pl.Partition])
				}
			}
			sum += want
		}
		if len(g.Topics) != len(f.commits[group]) || g.LagRecords != sum {
			t.Errorf("%s: %d topics lag %d, want %d topics lag %d", group, len(g.Topics), g.LagRecords, len(f.commits[group]), sum)
		}
	}
}

// TestCompactedTopic: compaction removes records but not offsets, so lag on
// a compacted topic is still end - committed, and topic.retention does not
// apply to it.
func TestCompactedTopic(t *testing.T) {
	f := newFixture(t, nil)
	f.createTopic("users.state", 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact"), "retention.ms": kadm.StringPtr("1000")})
	recs := make([]*kgo.Record, 30)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "users.state", Key: fmt.Appendf(nil, "user-%d", i%3), Value: fmt.Appendf(nil, "v%d", i)}
	}
	if err := f.cl.ProduceSync(f.ctx(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	f.produced["users.state"][0] = 30
	f.cluster.Compact()
	f.commit("profile", map[string]map[int32]int64{"users.state": {0: 7}})
	c, _ := f.collector(testConfig(), lag.Expectations{MinRetention: 7 * 24 * time.Hour})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	snap := c.Snapshot()
	if g, _ := snap.Group("profile"); g.LagRecords != 23 {
		t.Fatalf("lag on the compacted topic = %d, want 30 - 7", g.LagRecords)
	}
	for _, v := range snap.Violations {
		if v.Resource == "users.state" {
			t.Errorf("compacted topic reported: %+v", v)
		}
	}
}
