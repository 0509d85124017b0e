package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/share"
	synth "github.com/eventwatch/eventwatch/internal/testutil/estate"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/procstat"
)

// shareBenchKfakeEnv makes the test binary serve an empty kfake cluster
// for BenchmarkSharePath (TestShareBenchKfakeChild).
const shareBenchKfakeEnv = "EVENTWATCH_SHARE_BENCH_KFAKE"

// TestShareBenchKfakeChild is not a test: BenchmarkSharePath runs its
// broker in this child process, so the CPU it reports is the share path's.
func TestShareBenchKfakeChild(t *testing.T) {
	if os.Getenv(shareBenchKfakeEnv) == "" {
		t.Skip("helper process of BenchmarkSharePath")
	}
	kfaketest.ServeForParent(kfaketest.Cluster(t))
}

// BenchmarkSharePath measures the share path alone — the leader's groups
// document cut into items (groupsDoc.ShareSplit), diffed against what
// the topic holds, compressed, produced and read back by the same board —
// for the lag pages of the 10k (500 groups) and 50k (2,000 groups)
// shapes, each group on 20 topics, with every group, a tenth of them or
// none changing per lag interval (one iteration). It reports CPU-seconds
// per interval (getrusage of this process; the broker runs in a child),
// the bytes and records published per interval, and the items published
// per CPU-second.
//
//	go test -run '^$' -bench SharePath -benchtime 10x ./internal/daemon/
func BenchmarkSharePath(b *testing.B) {
	addrs, _ := kfaketest.StartChild(b, shareBenchKfakeEnv, "-test.run=^TestShareBenchKfakeChild$", "-test.bench=^$")
	for _, name := range []string{"10k", "50k"} {
		shape, _ := synth.Named(name)
		for _, change := range []struct {
			name  string
			every int // every n-th group changes; 0: none
		}{{"all", 1}, {"tenth", 10}, {"none", 0}} {
			b.Run(name+"/"+change.name, func(b *testing.B) { benchSharePath(b, addrs, shape, change.every) })
		}
	}
}

func benchSharePath(b *testing.B, addrs []string, shape synth.Shape, every int) {
	reg := prometheus.NewRegistry()
	board, err := share.New(share.Config{Topic: fmt.Sprintf("__bench_state_%d", time.Now().UnixNano()), ReplicaID: "leader",
		Interval: time.Hour, StaleAfter: 3 * time.Hour}, []kgo.Opt{kgo.SeedBrokers(addrs...)}, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	if err := board.Declare(groupsKind); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = board.Run(ctx) }() // Run returns nil when ctx ends
	defer func() { cancel(); <-done }()
	snap, rendered := benchPage(shape), &renderedGroups{}
	publish := func() {
		if err := board.Publish(ctx, kindGroups, groupsDoc{Cycle: snap.Cycle, snap: snap, published: func() {}, rendered: rendered}); err != nil {
			b.Fatal(err)
		}
	}
	publish() // the first version: every item
	bytes0, recs0 := shareCounter(b, reg, "eventwatch_share_published_bytes_total"), shareCounter(b, reg, "eventwatch_share_published_records_total")
	cpu0 := procstat.SelfCPU()
	b.ResetTimer()
	changed := 0
	for i := range b.N {
		var n int
		snap, n = advance(snap, every, i)
		changed += n
		publish()
	}
	b.StopTimer()
	cpu := (procstat.SelfCPU() - cpu0).Seconds()
	n := float64(b.N)
	b.ReportMetric(cpu/n, "cpu-s/interval")
	b.ReportMetric((shareCounter(b, reg, "eventwatch_share_published_bytes_total")-bytes0)/n, "published-B/interval")
	b.ReportMetric((shareCounter(b, reg, "eventwatch_share_published_records_total")-recs0)/n, "records/interval")
	if cpu > 0 {
		b.ReportMetric(float64(changed)/cpu, "items/cpu-s")
	}
}

// shareCounter is the sum of a board counter over its kinds.
func shareCounter(b *testing.B, reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// benchPage is a lag snapshot of shape at topic granularity: every group
// on PerGroup topics, each lagging with exact time lag and rates, as the
// estate benchmark's pages are.
func benchPage(shape synth.Shape) *lag.Snapshot {
	s := &lag.Snapshot{Time: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Success: true, Objective: 60, Window: 10}
	for g := range shape.Groups {
		gl := lag.GroupLag{Group: shape.Group(g), Protocol: "classic", State: "Empty", Status: lag.StatusErr, Cause: lag.StatusStop,
			Why:          "no member owns 1000 partitions and their offsets have not moved for 15m0s while records waited",
			DrainSeconds: lag.Seconds(math.NaN()), TimeToLoss: lag.Seconds(math.NaN()), CompleteFraction: 1, Complete: true,
			MaxLag: &lag.MaxLag{Topic: shape.Topic(g % shape.Topics), PartitionLag: lag.PartitionLag{Partition: 3, LagRecords: 4}}}
		for _, t := range shape.TopicsOf(g) {
			tl := lag.TopicLag{Topic: shape.Topic(t), LagRecords: int64(2*shape.Parts + t%7), LagSeconds: lag.Seconds(900 + float64(g%13)),
				Status: lag.StatusStop, Committed: shape.Parts, LagSecondsSource: lag.SourceExact, ExactPartitions: shape.Parts,
				ConsumeRate: 0, ProduceRate: 0, DrainSeconds: lag.Seconds(math.NaN()), TimeToLoss: lag.Seconds(math.NaN()),
				Findings: []lag.StatusFinding{{Status: lag.StatusStop, Reason: "no owner, offset not moving", Partitions: shape.Parts, Partition: 7, Committed: 2, Waiting: 900}}}
			gl.LagRecords += tl.LagRecords
			gl.LagSeconds = max(gl.LagSeconds, tl.LagSeconds)
			gl.Topics = append(gl.Topics, tl)
		}
		s.Groups = append(s.Groups, gl)
	}
	return s
}

// advance is the next lag interval's snapshot (a new one, as the
// collector makes every cycle): every every-th group (offset by round i)
// has one more record waiting on each topic (a fact: a group whose only
// change is time passing is not published again). It returns how many
// changed.
func advance(s *lag.Snapshot, every, i int) (*lag.Snapshot, int) {
	next := *s
	next.Time, next.Cycle = s.Time.Add(15*time.Second), s.Cycle+1
	next.Groups = slices.Clone(s.Groups)
	if every == 0 {
		return &next, 0
	}
	n := 0
	for g := i % every; g < len(next.Groups); g += every {
		gl := &next.Groups[g]
		gl.Topics = slices.Clone(gl.Topics)
		for t := range gl.Topics {
			gl.Topics[t].LagRecords++
			gl.Topics[t].LagSeconds += 15
			gl.Topics[t].Findings = slices.Clone(gl.Topics[t].Findings)
			gl.Topics[t].Findings[0].Waiting += 15
		}
		gl.LagRecords += int64(len(gl.Topics))
		gl.LagSeconds += 15
		n++
	}
	return &next, n
}
