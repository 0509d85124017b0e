package trace

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestThreeHopTraceparentFlow(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	flow := threeHop("corr-1")
	// Arrival order differs from event order: topics are read independently.
	for _, i := range []int{2, 0, 1} {
		f.feed(flow[i].record())
	}
	if n := f.s.chains.open(); n != 1 {
		t.Fatalf("open chains = %d, want 1", n)
	}
	f.closeAll()

	hops := []struct {
		from, to string
		latency  float64
	}{{"batchorchestration", "essaylifecycle", 0.150}, {"essaylifecycle", "spellchecker", 0.250}}
	for _, h := range hops {
		n, sum := histogram(t, f.reg, "eventwatch_hop_latency_seconds", map[string]string{"from_service": h.from, "to_service": h.to})
		if n != 1 || !near(sum, h.latency) {
			t.Errorf("hop %s>%s: count %d sum %v, want 1 and %v", h.from, h.to, n, sum, h.latency)
		}
	}
	pathway := "batchorchestration>essaylifecycle>spellchecker"
	n, sum := histogram(t, f.reg, "eventwatch_pathway_latency_seconds", map[string]string{"pathway": pathway})
	if n != 1 || !near(sum, 0.4) {
		t.Errorf("pathway latency: count %d sum %v, want 1 and 0.4", n, sum)
	}
	r := f.s.Flows()
	if len(r.Pathways) != 1 || r.Pathways[0].Pathway != pathway || r.Pathways[0].Hops != 2 || r.Pathways[0].Count != 1 {
		t.Fatalf("pathways = %+v", r.Pathways)
	}
	if p := r.Pathways[0].Latency; p.Samples != 1 || !near(p.P50, 0.4) || !near(p.Max, 0.4) {
		t.Errorf("pathway percentiles = %+v", p)
	}
	if len(r.BrokenChains) != 0 {
		t.Errorf("broken chains = %+v, want none", r.BrokenChains)
	}
	for _, svc := range []string{"batchorchestration", "essaylifecycle", "spellchecker"} {
		lbl := map[string]string{"service": svc}
		if counter(t, f.reg, "eventwatch_propagation_trace_context_total", lbl) != 1 ||
			counter(t, f.reg, "eventwatch_propagation_correlation_total", lbl) != 1 {
			t.Errorf("propagation of %s not counted", svc)
		}
	}
}

func TestAuthorworksEnvelopeContextFlow(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	trace := "4bf92f35-77b3-4da6-a3ce-929d0e0e4736" // a UUID-shaped trace id, as some SDKs write it
	f.feed(ev{topic: "content", offset: 1, id: "a1", typ: "content.book.published", service: "content",
		correlation: "req-9", traceID: trace, spanID: spanA1, at: 0}.record())
	f.feed(ev{topic: "subscription", offset: 2, id: "a2", typ: "subscription.payment.succeeded", service: "subscription",
		correlation: "req-9", traceID: trace, spanID: spanA2, at: 2 * time.Second}.record())
	f.closeAll()
	n, sum := histogram(t, f.reg, "eventwatch_hop_latency_seconds", map[string]string{"from_service": "content", "to_service": "subscription"})
	if n != 1 || !near(sum, 2) {
		t.Errorf("hop: count %d sum %v, want 1 and 2", n, sum)
	}
	r := f.s.Flows()
	if len(r.BrokenChains) != 0 {
		t.Errorf("broken = %+v", r.BrokenChains)
	}
	for _, p := range r.Propagation {
		if p.TraceContextCoverage != 1 || p.CorrelationCoverage != 1 {
			t.Errorf("propagation %+v, want full coverage", p)
		}
	}
}

func TestCorrelationOnlyFlowUsesRecordTimeWithoutEventTime(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	f.feed(ev{topic: "a", id: "c1", service: "svc-a", correlation: "only-corr", at: -1, recordAfter: 0}.record())
	f.feed(ev{topic: "b", id: "c2", service: "svc-b", correlation: "only-corr", at: -1, recordAfter: 3 * time.Second}.record())
	f.closeAll()
	n, sum := histogram(t, f.reg, "eventwatch_hop_latency_seconds", map[string]string{"from_service": "svc-a", "to_service": "svc-b"})
	if n != 1 || !near(sum, 3) {
		t.Errorf("hop from record times: count %d sum %v, want 1 and 3", n, sum)
	}
	r := f.s.Flows()
	if len(r.BrokenChains) != 0 {
		t.Errorf("a chain no service traces is not broken: %+v", r.BrokenChains)
	}
	for _, p := range r.Propagation {
		if p.CorrelationCoverage != 1 || p.TraceContextCoverage != 0 {
			t.Errorf("propagation %+v, want correlation 1 and trace 0", p)
		}
	}
}

func TestBrokenChains(t *testing.T) {
	first := ev{topic: "a", offset: 10, id: "b1", service: "upstream", correlation: "corr-x", traceparent: tp(traceA, spanA1), at: 0}
	cases := []struct {
		name   string
		second ev
		reason string
	}{
		{"correlation dropped", ev{topic: "b", offset: 20, id: "b2", service: "dropper", traceparent: tp(traceA, spanA2), at: time.Second}, BreakCorrelationDropped},
		{"correlation replaced", ev{topic: "b", offset: 20, id: "b2", service: "replacer", correlation: "corr-new", traceparent: tp(traceA, spanA2), at: time.Second}, BreakCorrelationReplaced},
		{"trace replaced", ev{topic: "b", offset: 20, id: "b2", service: "retracer", correlation: "corr-x", traceparent: tp(traceB, spanA2), at: time.Second}, BreakTraceReplaced},
		{"trace dropped", ev{topic: "b", offset: 20, id: "b2", service: "untraced", correlation: "corr-x", at: time.Second}, BreakTraceDropped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{Window: time.Minute})
			f.feed(first.record())
			f.feed(tc.second.record())
			f.closeAll()
			lbl := map[string]string{"service": tc.second.service, "reason": tc.reason}
			if got := counter(t, f.reg, "eventwatch_broken_chains_total", lbl); got != 1 {
				t.Fatalf("broken_chains_total%v = %v, want 1", lbl, got)
			}
			if mf := metricFamily(t, f.reg, "eventwatch_broken_chains_total"); len(mf.GetMetric()) != 1 {
				t.Errorf("broken chain series = %d, want only %v", len(mf.GetMetric()), lbl)
			}
			r := f.s.Flows()
			if len(r.BrokenChains) != 1 {
				t.Fatalf("broken chains = %+v", r.BrokenChains)
			}
			b := r.BrokenChains[0]
			if len(b.Breaks) != 1 || b.Breaks[0].Reason != tc.reason || b.Breaks[0].Event != 1 || b.Breaks[0].Service != tc.second.service {
				t.Errorf("breaks = %+v", b.Breaks)
			}
			if len(b.Events) != 2 || b.Events[0].Offset != 10 || b.Events[1].Topic != "b" || b.Events[1].Offset != 20 {
				t.Errorf("event refs = %+v", b.Events)
			}
		})
	}
}

func TestWindowExpiryFollowsLastArrival(t *testing.T) {
	f := newFixture(t, Config{Window: 10 * time.Second, LateWindow: -1})
	flow := threeHop("corr-w")
	f.feed(flow[0].record())
	f.clk.now = t0.Add(6 * time.Second)
	f.feed(flow[1].record())
	f.s.sweep(t0.Add(12 * time.Second)) // 12s after the first, 6s after the last arrival
	if f.s.chains.open() != 1 {
		t.Fatalf("chain closed %v after its last event, before its window", 6*time.Second)
	}
	f.s.sweep(t0.Add(16 * time.Second))
	if f.s.chains.open() != 0 {
		t.Fatalf("chain still open a window after its last event")
	}
	if g := sample(t, f.reg, "eventwatch_trace_open_chains", map[string]string{}); g.GetGauge().GetValue() != 0 {
		t.Errorf("open chains gauge = %v", g.GetGauge().GetValue())
	}
	// Without a late window, a late event of the same flow opens a chain of
	// its own, where it is a root: no hop, no flow, nothing phantom.
	f.feed(flow[2].record())
	f.closeAll()
	n, _ := histogram(t, f.reg, "eventwatch_hop_latency_seconds", map[string]string{"from_service": "batchorchestration", "to_service": "essaylifecycle"})
	if n != 1 {
		t.Errorf("first chain hops = %d, want 1", n)
	}
	if got := counter(t, f.reg, "eventwatch_trace_chains_closed_total", map[string]string{}); got != 2 {
		t.Errorf("chains closed = %v, want 2", got)
	}
	if r := f.s.Flows(); len(r.Hops) != 1 || len(r.Pathways) != 1 || r.Causation.Root != 2 {
		t.Errorf("flows = %+v, want the first chain's hop and pathway only, two roots", r)
	}
}

// TestLateEventJoinsItsClosedChain: a consumer behind by more than the
// window publishes after the chain closed; within the late window the
// event joins the remembered chain, the hop is counted with its real
// upstream and latency, and the flow the chain counted before (a>b) is
// taken back for the one it really is (a>b>c): no phantom pathway.
func TestLateEventJoinsItsClosedChain(t *testing.T) {
	f := newFixture(t, Config{Window: 10 * time.Second})
	flow := threeHop("corr-late")
	f.feed(flow[0].record())
	f.feed(flow[1].record())
	f.s.sweep(t0.Add(11 * time.Second))
	if r := f.s.Flows(); len(r.Pathways) != 1 || r.Pathways[0].Pathway != "batchorchestration>essaylifecycle" {
		t.Fatalf("before the late event: %+v", r.Pathways)
	}
	f.clk.now = t0.Add(25 * time.Second) // 15s after the chain closed, within 2 × window
	f.feed(flow[2].record())
	f.s.sweep(t0.Add(40 * time.Second))
	r := f.s.Flows()
	if len(r.Pathways) != 1 || r.Pathways[0].Pathway != "batchorchestration>essaylifecycle>spellchecker" || r.Pathways[0].Count != 1 ||
		!near(r.Pathways[0].Latency.Max, 0.4) {
		t.Errorf("pathways after the late event = %+v, want one a>b>c of 0.4s", r.Pathways)
	}
	if h := r.Hops; len(h) != 2 || h[0].Count != 1 || h[1].Count != 1 {
		t.Errorf("hops = %+v, want a>b and b>c once each", h)
	}
	if r.ClosedChains != 1 || r.LateEvents != 1 || r.Causation.Inferred != 2 || r.Causation.Root != 1 {
		t.Errorf("closed %d, late %d, causation %+v; want 1 chain, 1 late event, 2 inferred and 1 root", r.ClosedChains, r.LateEvents, r.Causation)
	}
	if got := counter(t, f.reg, "eventwatch_trace_late_events_total", map[string]string{}); got != 1 {
		t.Errorf("late events counter = %v, want 1", got)
	}
}

func TestCapsDropAndCount(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute, MaxOpenChains: 3, MaxChainEvents: 2})
	for i := range 5 {
		f.feed(ev{topic: "t", offset: int64(i), id: fmt.Sprintf("id-%d", i), service: "s", correlation: fmt.Sprintf("c-%d", i)}.record())
	}
	for i := range 3 { // two more events into chain c-0, which holds at most 2
		f.feed(ev{topic: "t", offset: int64(10 + i), id: fmt.Sprintf("more-%d", i), service: "s", correlation: "c-0", at: time.Second}.record())
	}
	f.feed(ev{topic: "t", offset: 20, id: "id-1", service: "s", correlation: "c-1"}.record()) // redelivery
	f.feed(ev{topic: "t", offset: 21, id: "bare", service: "s"}.record())                     // no context at all
	want := map[string]float64{dropMaxChains: 2, dropChainFull: 2, dropDuplicate: 1, dropNoContext: 1, dropQueueFull: 0}
	for reason, n := range want {
		if got := counter(t, f.reg, "eventwatch_trace_dropped_total", map[string]string{"reason": reason}); got != n {
			t.Errorf("dropped{%s} = %v, want %v", reason, got, n)
		}
	}
	if f.s.chains.open() != 3 {
		t.Errorf("open = %d, want the cap 3", f.s.chains.open())
	}
	if got := counter(t, f.reg, "eventwatch_propagation_events_total", map[string]string{"service": "s"}); got != 10 {
		t.Errorf("propagation events = %v, want every event (10) counted, stitched or not", got)
	}
}

func TestBoundedStateUnderManyChains(t *testing.T) {
	const limit, events, services = 500, 20000, 300
	f := newFixture(t, Config{Window: time.Second, MaxOpenChains: limit, MaxServices: 20, MaxPathways: 10})
	for i := range events {
		f.clk.now = t0.Add(time.Duration(i) * time.Millisecond)
		corr := fmt.Sprintf("corr-%d", i/2) // two events per chain
		f.feed(ev{topic: "t", offset: int64(i), id: fmt.Sprintf("ev-%d", i), service: fmt.Sprintf("svc-%d", i%services),
			correlation: corr, at: time.Duration(i) * time.Millisecond}.record())
		if i%100 == 0 {
			f.s.sweep(f.clk.now)
		}
		cs := f.s.chains
		if cs.open() > limit || len(cs.byCorrelation) > limit || len(cs.byTrace) > limit {
			t.Fatalf("state grew past the cap: open %d, by correlation %d", cs.open(), len(cs.byCorrelation))
		}
		if cl := cs.closed; cl.byClose.Len() > limit || len(cl.byCorrelation) > limit || *f.s.closedTotal != cl.byClose.Len() {
			t.Fatalf("closed chains remembered past the cap: %d (total %d)", cl.byClose.Len(), *f.s.closedTotal)
		}
	}
	f.closeAll()
	if f.s.chains.open() != 0 || len(f.s.chains.byCorrelation) != 0 {
		t.Fatalf("chains left after closing all: %d", f.s.chains.open())
	}
	if got := len(metricFamily(t, f.reg, "eventwatch_propagation_events_total").GetMetric()); got > 21 {
		t.Errorf("service label values = %d, want at most 20 + other", got)
	}
	if got := len(metricFamily(t, f.reg, "eventwatch_pathway_latency_seconds").GetMetric()); got > 11 {
		t.Errorf("pathway label values = %d, want at most 10 + other", got)
	}
	if r := f.s.Flows(); len(r.Pathways) > 11 || r.ClosedChains == 0 {
		t.Errorf("flows: %d pathways, %d closed", len(r.Pathways), r.ClosedChains)
	}
}

func TestObserveNeverBlocks(t *testing.T) {
	f := newFixture(t, Config{QueueSize: 2})
	rec, res := threeHop("corr-q")[0].record()
	for range 10 { // nothing drains the queue: Run is not running
		f.s.Observe(rec, res)
	}
	if got := counter(t, f.reg, "eventwatch_trace_dropped_total", map[string]string{"reason": dropQueueFull}); got != 8 {
		t.Errorf("queue_full drops = %v, want 8", got)
	}
}

func TestRunClosesChainsOnShutdown(t *testing.T) {
	f := newFixture(t, Config{Window: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.s.Run(ctx) }()
	for _, e := range threeHop("corr-run") {
		rec, res := e.record()
		f.s.Observe(rec, res)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := f.s.Run(context.Background()); err == nil {
		t.Error("a second Run was accepted")
	}
	r := f.s.Flows()
	if len(r.Pathways) != 1 || r.Pathways[0].Hops != 2 || r.ClosedChains != 1 || r.OpenChains != 0 {
		t.Fatalf("after shutdown: %+v", r)
	}
}

func TestObserveDoesNotRetainRecord(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	rec, res := threeHop("corr-r")[0].record()
	f.s.Observe(rec, res)
	rec.Headers[0].Value[3] = 'f' // the sampler reuses its buffers
	res.CorrelationID = "changed"
	e := <-f.s.in
	if e.Correlation != "corr-r" || e.Ctx.TraceID.String() != traceA {
		t.Errorf("event changed with the caller's buffers: %+v", e)
	}
}

var _ event.Sink = (*Stitcher)(nil)

func TestFanOutAndLoopsFollowCauses(t *testing.T) {
	const (
		batchT = "huleedu.batchorchestration.batch.registered.v1"
		essT   = "huleedu.essaylifecycle.essay.spellcheck_requested.v1"
		spellT = "huleedu.spellchecker.essay.spellcheck_completed.v1"
		doneT  = "huleedu.essaylifecycle.essay.spellchecked.v1"
	)
	cases := []struct {
		name     string
		events   []ev
		pathways map[string]uint64
		hops     map[[2]string]uint64
		breaks   int
	}{{
		// An untraced importer registers a batch of two essays; the essay
		// service starts one trace per essay, the spellchecker continues each.
		// Events interleave in time.
		name: "fan-out into new traces",
		events: []ev{
			{topic: "batch", offset: 1, id: "b", typ: batchT, service: "importer", correlation: "c", at: 0},
			{topic: "essay", offset: 1, id: "e1", typ: essT, service: "essay", correlation: "c", traceparent: tp(traceA, spanA1), at: 100 * time.Millisecond},
			{topic: "spell", offset: 1, id: "s1", typ: spellT, service: "spell", correlation: "c", traceparent: tp(traceA, spanA2), at: 200 * time.Millisecond},
			{topic: "essay", offset: 2, id: "e2", typ: essT, service: "essay", correlation: "c", traceparent: tp(traceB, spanA1), at: 300 * time.Millisecond},
			{topic: "spell", offset: 2, id: "s2", typ: spellT, service: "spell", correlation: "c", traceparent: tp(traceB, spanA3), at: 700 * time.Millisecond},
		},
		pathways: map[string]uint64{"importer>essay>spell": 2},
		hops:     map[[2]string]uint64{{"importer", "essay"}: 2, {"essay", "spell"}: 2},
	}, {
		// An orchestrator asks for a spellcheck and proceeds on the answer;
		// no service traces.
		name: "orchestrator loop",
		events: []ev{
			{topic: "batch", offset: 1, id: "b", typ: batchT, service: "batch", correlation: "c", at: 0},
			{topic: "essay", offset: 1, id: "e1", typ: essT, service: "essay", correlation: "c", at: time.Second},
			{topic: "spell", offset: 1, id: "s1", typ: spellT, service: "spell", correlation: "c", at: 2 * time.Second},
			{topic: "essay", offset: 2, id: "e2", typ: doneT, service: "essay", correlation: "c", at: 3 * time.Second},
		},
		pathways: map[string]uint64{"batch>essay>spell>essay": 1},
		hops:     map[[2]string]uint64{{"batch", "essay"}: 1, {"essay", "spell"}: 1, {"spell", "essay"}: 1},
	}, {
		// A traced batch service; the essay service starts a new trace per
		// essay instead of continuing the batch's: two breaks, one series.
		name: "fan-out replacing the trace",
		events: []ev{
			{topic: "batch", offset: 1, id: "b", typ: batchT, service: "batch", correlation: "c", traceparent: tp(traceA, spanA1), at: 0},
			{topic: "essay", offset: 1, id: "e1", typ: essT, service: "essay", correlation: "c", traceparent: tp(traceB, spanA2), at: time.Second},
			{topic: "essay", offset: 2, id: "e2", typ: essT, service: "essay", correlation: "c", traceparent: tp("1af7651916cd43dd8448eb211c80319c", spanA3), at: 2 * time.Second},
		},
		pathways: map[string]uint64{"batch>essay": 2},
		hops:     map[[2]string]uint64{{"batch", "essay"}: 2},
		breaks:   2,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{Window: time.Minute})
			for _, e := range tc.events {
				f.feed(e.record())
			}
			f.closeAll()
			r := f.s.Flows()
			got := map[string]uint64{}
			for _, p := range r.Pathways {
				got[p.Pathway] = p.Count
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.pathways) {
				t.Errorf("pathways = %v, want %v", got, tc.pathways)
			}
			hops := map[[2]string]uint64{}
			for _, h := range r.Hops {
				hops[[2]string{h.From, h.To}] += h.Count
			}
			if fmt.Sprint(hops) != fmt.Sprint(tc.hops) {
				t.Errorf("hops = %v, want %v", hops, tc.hops)
			}
			breaks := 0
			for _, b := range r.BrokenChains {
				breaks += len(b.Breaks)
			}
			if breaks != tc.breaks {
				t.Errorf("breaks = %d, want %d: %+v", breaks, tc.breaks, r.BrokenChains)
			}
			if tc.breaks > 0 {
				if n := counter(t, f.reg, "eventwatch_broken_chains_total", map[string]string{"service": "essay", "reason": BreakTraceReplaced}); n != 1 {
					t.Errorf("broken_chains_total = %v, want 1 per chain", n)
				}
			}
		})
	}
}

func TestConcurrentObserveRunAndFlows(t *testing.T) {
	const writers, flowsEach = 4, 200
	f := newFixture(t, Config{Window: time.Hour, QueueSize: writers * flowsEach * 3})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.s.Run(ctx) }()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range flowsEach {
				for _, e := range threeHop(fmt.Sprintf("corr-%d-%d", w, i)) {
					e.traceparent = ""
					f.s.Observe(e.record())
				}
			}
		}()
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for range 50 {
			_ = f.s.Flows()
		}
	}()
	wg.Wait()
	<-readerDone
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := f.s.Flows()
	if r.ClosedChains != writers*flowsEach || len(r.Pathways) != 1 || r.Pathways[0].Count != writers*flowsEach {
		t.Errorf("closed %d chains, pathways %+v; want %d flows of one pathway", r.ClosedChains, r.Pathways, writers*flowsEach)
	}
}
