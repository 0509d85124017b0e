package trace

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// soakEvent is a compliant event of its own chain (its own correlation id),
// like the soak's records.
func soakEvent(i int) ev {
	return ev{topic: "huleedu.soak.batchorchestration.batch", partition: int32(i % 3), offset: int64(i),
		id: fmt.Sprintf("3f1c2a9e-8a51-4d3b-9a53-%012d", i), typ: "huleedu.batchorchestration.batch.pipelines_configured.v1",
		service: "batch_orchestrator_service", correlation: fmt.Sprintf("9b0e7d1c-2f4a-4c2e-8d6b-%012d", i), at: time.Duration(i) * time.Millisecond}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestStateBytesEstimate: the state budget's estimate of open chains and of
// remembered closed chains is within a factor of 1.5 of the heap they
// really take, for one-event chains (the soak's traffic) and three-event
// traced flows, so that trace.max_state_bytes bounds what it claims.
func TestStateBytesEstimate(t *testing.T) {
	const n = 20000
	for _, tc := range []struct {
		name  string
		chain func(i int) []ev
	}{
		{"one event per chain", func(i int) []ev { return []ev{soakEvent(i)} }},
		{"three-hop traced flows", func(i int) []ev {
			evs := threeHop(fmt.Sprintf("corr-%012d", i))
			for j := range evs {
				evs[j].id = fmt.Sprintf("ev-%012d-%d", i, j)
				evs[j].traceparent = tp(fmt.Sprintf("%032x", i+1), fmt.Sprintf("%016x", 3*i+j+1))
			}
			return evs
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{Window: time.Minute, MaxOpenChains: 2 * n, MaxStateBytes: 1 << 30})
			before := liveHeap()
			for i := range n {
				for _, e := range tc.chain(i) {
					f.feed(e.record())
				}
			}
			open := liveHeap() - before
			checkEstimate(t, "open", f.s.mem.open, open)
			f.closeAll()
			closed := liveHeap() - before
			if *f.s.closedTotal != n {
				t.Fatalf("remembered %d chains, want %d", *f.s.closedTotal, n)
			}
			checkEstimate(t, "closed", f.s.mem.closed, closed)
			runtime.KeepAlive(f)
		})
	}
}

func checkEstimate(t *testing.T, what string, est, real int64) {
	t.Helper()
	t.Logf("%s chains: estimated %d bytes, heap %d bytes (ratio %.2f)", what, est, real, float64(est)/float64(real))
	if float64(est) < float64(real)/1.5 || float64(est) > float64(real)*1.5 {
		t.Errorf("%s chains: estimated %d bytes, the heap grew by %d", what, est, real)
	}
}

// TestStateBudgetEvictsOldestFirst: beyond trace.max_state_bytes the
// oldest remembered closed chains are forgotten first, then the oldest
// open chains are closed and counted early; the state never stays above
// the budget, every eviction is counted by state, and an evicted chain's
// later event starts a chain of its own.
func TestStateBudgetEvictsOldestFirst(t *testing.T) {
	const budget = 1 << 20
	f := newFixture(t, Config{Window: time.Minute, MaxOpenChains: 1 << 20, MaxStateBytes: budget})
	perChain := chainBytes + eventSize(newEvent(soakEvent(0).record()))
	first := int(budget / perChain / 2) // half the budget open, then closed and remembered
	for i := range first {
		f.feed(soakEvent(i).record())
	}
	f.closeAll()
	if got := *f.s.closedTotal; got != first {
		t.Fatalf("remembered %d chains, want %d", got, first)
	}
	evicted := func(state string) float64 {
		return counter(t, f.reg, "eventwatch_trace_evicted_chains_total", map[string]string{"state": state})
	}
	i := first
	for ; evicted(stateClosed) == 0; i++ {
		f.feed(soakEvent(i).record())
		checkWithin(t, f, budget)
	}
	if evicted(stateOpen) != 0 {
		t.Fatalf("an open chain was evicted while closed chains were remembered")
	}
	if f.s.chains.closed.find(newEvent(soakEvent(0).record())) != nil || f.s.chains.closed.find(newEvent(soakEvent(first-1).record())) == nil {
		t.Fatal("the closed chains were not forgotten oldest first")
	}
	for ; evicted(stateOpen) == 0; i++ {
		f.feed(soakEvent(i).record())
		checkWithin(t, f, budget)
	}
	if *f.s.closedTotal != 0 || evicted(stateClosed) != float64(first) {
		t.Fatalf("open chains evicted with %d closed chains remembered (%v forgotten)", *f.s.closedTotal, evicted(stateClosed))
	}
	closedBefore := counter(t, f.reg, "eventwatch_trace_chains_closed_total", nil)
	if closedBefore != float64(first)+evicted(stateOpen) {
		t.Fatalf("chains closed %v, want %d by the clock and %v evicted", closedBefore, first, evicted(stateOpen))
	}
	if f.s.chains.byCorrelation[soakEvent(first).correlation] != nil {
		t.Fatal("the oldest open chain is still open")
	}
	late := soakEvent(first)
	late.id, late.offset = "late-event", 1<<40
	f.feed(late.record())
	if f.s.chains.byCorrelation[late.correlation] == nil || counter(t, f.reg, "eventwatch_trace_late_events_total", nil) != 0 {
		t.Fatal("the evicted chain's later event did not start a chain of its own")
	}
	checkGauge(t, f, "eventwatch_trace_state_bytes", map[string]string{"state": stateOpen}, float64(f.s.mem.open))
}

func checkWithin(t *testing.T, f *fixture, budget int64) {
	t.Helper()
	if got := f.s.mem.open + f.s.mem.closed; got > budget {
		t.Fatalf("state %d bytes is above the budget %d", got, budget)
	}
}

func checkGauge(t *testing.T, f *fixture, name string, labels map[string]string, want float64) {
	t.Helper()
	m := sample(t, f.reg, name, labels)
	if m == nil || m.GetGauge().GetValue() != want {
		t.Fatalf("%s%v = %v, want %v", name, labels, m.GetGauge().GetValue(), want)
	}
}
