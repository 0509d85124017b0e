package trace

import (
	"strings"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// Reasons a chain is broken (the reason label of eventwatch_broken_chains_total).
const (
	BreakCorrelationDropped  = "correlation_dropped"  // the event has no correlation id; its upstream had one
	BreakCorrelationReplaced = "correlation_replaced" // the event has a different correlation id than its upstream
	BreakTraceDropped        = "trace_dropped"        // the event has no trace context; its upstream had one
	BreakTraceReplaced       = "trace_replaced"       // the event starts a different trace than its upstream
)

// pathwaySep joins the services of a pathway.
const pathwaySep = ">"

// hop is one step of a closed chain.
type hop struct {
	From, To *event
	Latency  time.Duration
}

// brk is one place a chain broke: the event at index Event (in order) was
// published by Service without the upstream's id.
type brk struct {
	Service string
	Reason  string
	Event   int
}

// analysis is what a closed chain tells.
type analysis struct {
	Events   []*event // in order
	Hops     []hop
	Services []string // pathway, in order
	Latency  time.Duration
	Breaks   []brk
	Trace    oteltrace.TraceID // the first real trace id, else the correlation-derived one
}

// analyse orders a closed chain's events and derives its hops, pathway,
// end-to-end latency and breaks.
func analyse(c *chain) analysis {
	evs := c.sorted()
	a := analysis{Events: evs, Trace: evs[0].Ctx.TraceID}
	if len(c.traces) > 0 {
		a.Trace = c.traces[0]
	}
	for i, e := range evs {
		a.Services = append(a.Services, e.Service)
		if i == 0 {
			continue
		}
		a.Hops = append(a.Hops, hop{From: evs[i-1], To: e, Latency: e.at().Sub(evs[i-1].at())})
	}
	a.Latency = evs[len(evs)-1].at().Sub(evs[0].at())
	a.Breaks = breaks(evs)
	return a
}

// Pathway is the pathway label value of the analysis: its services in order.
func (a analysis) Pathway() string { return strings.Join(a.Services, pathwaySep) }

// breaks walks the ordered events and reports each event whose publisher
// dropped or replaced the correlation id or the real trace id of the events
// before it.
func breaks(evs []*event) []brk {
	var out []brk
	lastCorr := ""
	var lastTrace oteltrace.TraceID
	for i, e := range evs {
		switch {
		case e.Correlation == "" && lastCorr != "":
			out = append(out, brk{Service: e.Service, Reason: BreakCorrelationDropped, Event: i})
		case e.Correlation != "" && lastCorr != "" && e.Correlation != lastCorr:
			out = append(out, brk{Service: e.Service, Reason: BreakCorrelationReplaced, Event: i})
		}
		switch {
		case !e.Ctx.Real() && lastTrace.IsValid():
			out = append(out, brk{Service: e.Service, Reason: BreakTraceDropped, Event: i})
		case e.Ctx.Real() && lastTrace.IsValid() && e.Ctx.TraceID != lastTrace:
			out = append(out, brk{Service: e.Service, Reason: BreakTraceReplaced, Event: i})
		}
		if e.Correlation != "" {
			lastCorr = e.Correlation
		}
		if e.Ctx.Real() {
			lastTrace = e.Ctx.TraceID
		}
	}
	return out
}
