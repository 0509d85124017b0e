package trace

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/trace/otlptest"
)

// benchFlows builds n three-hop traced flows (3n records).
func benchFlows(n int) ([]*event.Record, []*event.Result) {
	var recs []*event.Record
	var ress []*event.Result
	for i := range n {
		trace := fmt.Sprintf("%032x", i+1)
		for j, e := range threeHop(fmt.Sprintf("corr-%d", i)) {
			e.traceparent = tp(trace, fmt.Sprintf("%016x", 3*i+j+1))
			e.id = fmt.Sprintf("ev-%d-%d", i, j)
			rec, res := e.record()
			recs, ress = append(recs, rec), append(ress, res)
		}
	}
	return recs, ress
}

// BenchmarkObserve measures the sink's hot path on the sampler's goroutines:
// resolve the context and queue the event (the queue is drained by Run).
func BenchmarkObserve(b *testing.B) {
	f := newFixture(&testing.T{}, Config{QueueSize: 1 << 16, Window: time.Second})
	recs, ress := benchFlows(1000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.s.Run(ctx) }()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % len(recs)
		f.s.Observe(recs[k], ress[k])
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStitch measures the stitcher's loop without export: ingest,
// chain bookkeeping, and closing and analysing every chain.
func BenchmarkStitch(b *testing.B) {
	benchStitch(b, Config{Window: time.Second, MaxOpenChains: 1 << 20})
}

// BenchmarkStitchExport adds one OTLP span per event, exported over gRPC to
// an in-process receiver (which shares the CPU, as a local collector would).
func BenchmarkStitchExport(b *testing.B) {
	rcv := otlptest.Start(b)
	yes := true
	f := benchStitch(b, Config{Window: time.Second, MaxOpenChains: 1 << 20,
		OTLP: OTLPConfig{Enabled: true, Endpoint: rcv.GRPCAddr, Insecure: &yes, QueueSize: 1 << 16}})
	b.ReportMetric(counter(&testing.T{}, f.reg, "eventwatch_otlp_spans_dropped_total",
		map[string]string{"reason": spanDropQueueFull})/float64(b.N), "dropped/op")
}

func benchStitch(b *testing.B, cfg Config) *fixture {
	f := newFixture(&testing.T{}, cfg)
	if f.s.exp != nil {
		go f.s.exp.run()
		defer f.s.exp.shutdown(context.Background())
	}
	recs, ress := benchFlows(1000)
	evs := make([]*seenEvent, len(recs))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % len(recs)
		if k == 0 {
			b.StopTimer()
			for j := range recs { // fresh events: the stitcher keeps the ones it stitched
				evs[j] = newEvent(recs[j], ress[j])
			}
			b.StartTimer()
			f.closeAll() // closing and analysing the last round's chains is part of the work
		}
		f.s.ingest(evs[k], f.clk.now)
	}
	b.StopTimer()
	f.closeAll()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	return f
}

// BenchmarkRoutedOwner measures an owner's cost per routed observation:
// decode the routing-topic record and stitch it into its partition's state
// (correlation-only three-hop chains, so no link is sent). With routing,
// this is the work replicas split between them.
func BenchmarkRoutedOwner(b *testing.B) {
	f := newFixture(&testing.T{}, Config{Window: time.Minute})
	f.s.route = &router{parts: 1}
	p := newPart(0, 0, 0, f.s.newChainSet(), f.s.newSpanIndex())
	recs, ress := benchFlows(1000)
	msgs := make([][]byte, len(recs))
	for i := range recs {
		e := newEvent(recs[i], ress[i])
		e.Ctx = Context{TraceID: CorrelationTraceID(e.Correlation), Origin: OriginCorrelation, Derived: true}
		msgs[i], _ = json.Marshal(wireMsg{Type: msgObserve, Key: corrKey(e.Correlation), Event: toWire(e)})
	}
	now := time.Now()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % len(msgs)
		f.s.handleRecord(p, &kgo.Record{Offset: int64(i), Timestamp: now.Add(time.Duration(i) * time.Microsecond), Value: msgs[k]})
		if k == len(msgs)-1 { // a new round of the same ids: let the chains close
			f.s.expirePart(p, now.Add(time.Duration(i)*time.Microsecond+time.Hour))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
