package ledger

import (
	"context"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"github.com/eventwatch/eventwatch/internal/store"
)

// BenchmarkObserve measures the sink's hot path: one record with the
// dataset's mix of violations into the hourly aggregates (no I/O).
func BenchmarkObserve(b *testing.B) {
	st := storetest.OpenSQLite(b, b.TempDir())
	a, _ := newTestAggregator(b, st, store.Config{}, storetest.NewClock(mon17))
	obs := dataset(1, 4096, mon17)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		o := &obs[i%len(obs)]
		a.Observe(&o.Rec, &o.Res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkObserveParallel measures Observe from several sampler workers.
func BenchmarkObserveParallel(b *testing.B) {
	st := storetest.OpenSQLite(b, b.TempDir())
	a, _ := newTestAggregator(b, st, store.Config{}, storetest.NewClock(mon17))
	obs := dataset(2, 4096, mon17)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			o := &obs[i%len(obs)]
			a.Observe(&o.Rec, &o.Res)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFlush measures one flush of a busy hour (4 services, 8 event
// types, 4 rules, examples) into SQLite.
func BenchmarkFlush(b *testing.B) {
	st := storetest.OpenSQLite(b, b.TempDir())
	c := storetest.NewClock(mon17)
	a, _ := newTestAggregator(b, st, store.Config{}, c)
	obs := dataset(3, 2000, mon17)
	for b.Loop() {
		observeAll(a, obs)
		if err := a.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		c.Set(c.Now().Add(time.Hour))
	}
}
