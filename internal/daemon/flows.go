package daemon

import (
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/trace"
)

// flowsSection is the weekly report's "Flows (now)": the estate-wide flow
// map as /api/v1/flows answers it; nil before any chain closed.
func (d *daemon) flowsSection() *report.Flows {
	return reportFlows(d.stitcher.EstateFlows())
}

// reportFlows turns the flows report into the weekly report's section.
func reportFlows(r trace.Report) *report.Flows {
	if r.ClosedChains == 0 {
		return nil
	}
	f := &report.Flows{Exact: r.Causation.Exact, Inferred: r.Causation.Inferred, Ambiguous: r.Causation.Ambiguous,
		Roots: r.Causation.Root, AmbiguousFlows: r.AmbiguousFlows, LateEvents: r.LateEvents,
		Pathways: []report.FlowPathway{}, AmbiguousHops: []report.AmbiguousHop{}}
	for _, p := range r.Pathways {
		f.Pathways = append(f.Pathways, report.FlowPathway{Pathway: p.Pathway, Flows: p.Count, Exact: p.Exact, Inferred: p.Inferred,
			P50Second: p.Latency.P50, MaxSecond: p.Latency.Max})
	}
	for _, h := range r.AmbiguousHops {
		f.AmbiguousHops = append(f.AmbiguousHops, report.AmbiguousHop{From: h.From, To: h.To, Count: h.Count})
	}
	return f
}
