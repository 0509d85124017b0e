package readers

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
)

// fillIndex indexes parts partitions × types types, each (partition, type)
// with three segments (occurrences two minutes apart), as a long-running
// estate has them.
func fillIndex(x *Index, parts, types int) {
	rec := &event.Record{}
	res := &event.Result{Source: "svc"}
	names := make([]string, types)
	for i := range names {
		names[i] = fmt.Sprintf("domain.entity.event_%02d", i)
	}
	for round := range 3 {
		rec.Timestamp = t0.Add(time.Duration(round) * 2 * time.Minute)
		for p := range parts {
			rec.Topic, rec.Partition = fmt.Sprintf("topic-%03d", p/100), int32(p%100)
			for ti, name := range names {
				rec.Offset = int64(round*types + ti)
				res.EventType, res.Version = name, "1"
				x.Observe(rec, res)
			}
		}
	}
}

// BenchmarkIndexMemory measures the heap the consumption index holds for
// 10,000 partitions × 50 types and versions, every pair with its full
// three segments (the bound: it never grows with traffic).
func BenchmarkIndexMemory(b *testing.B) {
	const parts, types = 10_000, 50
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		x := NewIndex(nil)
		fillIndex(x, parts, types)
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(held/(1<<20), "MiB")
		b.ReportMetric(held/(parts*types), "B/pair")
		runtime.KeepAlive(x)
	}
}

// BenchmarkIndexObserve is the cost on the audit path per record.
func BenchmarkIndexObserve(b *testing.B) {
	x := NewIndex(nil)
	fillIndex(x, 1000, 50)
	rec := &event.Record{Topic: "topic-001", Partition: 7, Timestamp: t0.Add(time.Hour)}
	res := &event.Result{EventType: "domain.entity.event_07", Version: "1", Source: "svc"}
	b.ResetTimer()
	for i := range b.N {
		rec.Offset = int64(1000 + i)
		x.Observe(rec, res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJoin is one lag cycle's join at 10,000 partitions × 50 types
// with 50 groups committing on every partition (500,000 committed group
// partitions).
func BenchmarkJoin(b *testing.B) { benchJoin(b, 50) }

// BenchmarkJoinOneType is BenchmarkJoin with one type per partition, as
// in the estate benchmarks (internal/testutil/estate): the cost per
// commit of finding its partition and group, not of crediting types.
func BenchmarkJoinOneType(b *testing.B) { benchJoin(b, 1) }

// BenchmarkJoinTopicsOneType is BenchmarkJoinOneType through JoinTopics
// (one call per group's topic, offsets by partition), as the daemon joins
// (lag.Collector.TopicCommits).
func BenchmarkJoinTopicsOneType(b *testing.B) {
	const parts, groups = 10_000, 50
	x := NewIndex(nil)
	fillIndex(x, parts, 1)
	offsets := make([]int64, 100)
	for i := range offsets {
		offsets[i] = 12
	}
	names := make([]string, groups)
	for g := range names {
		names[g] = fmt.Sprintf("group-%02d", g)
	}
	topics := make([]string, parts/100)
	for t := range topics {
		topics[t] = fmt.Sprintf("topic-%03d", t)
	}
	b.ResetTimer()
	cpu := cpuSeconds()
	for i := range b.N {
		x.JoinTopics(t0.Add(time.Duration(i)*time.Second), func(yield func(string, string, []int64)) bool {
			for _, g := range names {
				for _, t := range topics {
					yield(g, t, offsets)
				}
			}
			return true
		})
	}
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/join")
}

// benchJoin joins 50 groups' commits on 10,000 partitions of 100 topics,
// each partition carrying types types.
func benchJoin(b *testing.B, types int) {
	const parts, groups = 10_000, 50
	x := NewIndex(nil)
	fillIndex(x, parts, types)
	commits := make([]Commit, 0, parts*groups)
	for g := range groups {
		for p := range parts {
			commits = append(commits, Commit{Group: fmt.Sprintf("group-%02d", g), Topic: fmt.Sprintf("topic-%03d", p/100), Partition: int32(p % 100), Offset: int64(2*types + 10)})
		}
	}
	b.ResetTimer()
	cpu := cpuSeconds()
	for i := range b.N {
		x.Join(t0.Add(time.Duration(i)*time.Second), commits)
	}
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/join")
}

// cpuSeconds is the process's user+system CPU time: on a shared machine
// the wall time of a benchmark says more about the neighbours.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
