package trace

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// traceC is a trace of its own for the golden flows.
const traceC = "1234567890abcdef1234567890abcdef"

// TestExpositionGolden feeds a complete three-hop flow, a chain that
// drops its correlation id and one that drops its trace context, closes
// every chain and compares the exposition with testdata/trace.golden.prom
// (-update rewrites it).
func TestExpositionGolden(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	for _, e := range threeHop("corr-1") {
		f.feed(e.record())
	}
	first := ev{topic: "a", offset: 10, id: "b1", service: "upstream", correlation: "corr-x", traceparent: tp(traceB, spanA1), at: 0}
	f.feed(first.record())
	f.feed(ev{topic: "b", offset: 20, id: "b2", service: "dropper", traceparent: tp(traceB, spanA2), at: time.Second}.record())
	other := ev{topic: "a", offset: 11, id: "c1", service: "upstream", correlation: "corr-y", traceparent: tp(traceC, spanA1), at: 0}
	f.feed(other.record())
	f.feed(ev{topic: "b", offset: 21, id: "c2", service: "untraced", correlation: "corr-y", at: 2 * time.Second}.record())
	f.closeAll()
	metricstest.Golden(t, f.reg, filepath.Join("testdata", "trace.golden.prom"), *update,
		"eventwatch_hop_latency_seconds", "eventwatch_pathway_latency_seconds",
		"eventwatch_propagation_events_total", "eventwatch_propagation_correlation_total",
		"eventwatch_propagation_trace_context_total", "eventwatch_broken_chains_total",
		"eventwatch_trace_open_chains", "eventwatch_trace_chains_closed_total")
}
