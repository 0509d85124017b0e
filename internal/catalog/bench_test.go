package catalog

import (
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
)

// BenchmarkLearnerObserve is the learner's cost per audited record on the
// sampler's path (one type, steady state: one in 64 records decoded),
// serial and from parallel workers.
func BenchmarkLearnerObserve(b *testing.B) {
	rec := fixedTraffic()[0]
	eng := enginetest.Engine(b, "authorworks", audit.Options{Now: func() time.Time { return testNow }})
	res := eng.Check(rec)
	run := func(b *testing.B, parallel bool) {
		l := NewLearner("data", nil)
		for range learnFirst {
			l.Observe(rec, &res)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Observe(rec, &res)
				}
			})
		} else {
			for range b.N {
				l.Observe(rec, &res)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	}
	b.Run("serial", func(b *testing.B) { run(b, false) })
	b.Run("parallel", func(b *testing.B) { run(b, true) })
}
