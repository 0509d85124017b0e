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

// path is one root-to-leaf run of a chain: a flow from the event that
// started it to an event nothing followed.
type path struct {
	Services []string
	Latency  time.Duration
}

// Pathway is the pathway label value of the path: its services in order.
func (p path) Pathway() string { return strings.Join(p.Services, pathwaySep) }

// brk is one place a chain broke: the event at index Event (in order) was
// published by Service without its upstream's id.
type brk struct {
	Service string
	Reason  string
	Event   int
}

// analysis is what a closed chain tells.
type analysis struct {
	Events []*event // in order
	Up     []int    // index of each event's upstream in Events; -1 for a root
	Hops   []hop
	Paths  []path
	Breaks []brk
	Trace  oteltrace.TraceID // the first real trace id, else the correlation-derived one
}

// analyse orders a closed chain's events, infers each one's upstream, and
// derives hops, root-to-leaf paths and breaks.
func analyse(c *chain) analysis {
	evs := c.sorted()
	a := analysis{Events: evs, Up: upstreams(evs), Trace: evs[0].Ctx.TraceID}
	if len(c.traces) > 0 {
		a.Trace = c.traces[0]
	}
	leaf := make([]bool, len(evs))
	for i := range evs {
		leaf[i] = true
	}
	for i, u := range a.Up {
		if u < 0 {
			continue
		}
		leaf[u] = false
		a.Hops = append(a.Hops, hop{From: evs[u], To: evs[i], Latency: evs[i].at().Sub(evs[u].at())})
		a.Breaks = append(a.Breaks, breaksAt(evs, i, u)...)
	}
	for i := range evs {
		if leaf[i] && a.Up[i] >= 0 {
			a.Paths = append(a.Paths, a.pathTo(i))
		}
	}
	return a
}

// pathTo follows upstreams from event i back to its root.
func (a analysis) pathTo(i int) path {
	var rev []string
	j := i
	for ; a.Up[j] >= 0; j = a.Up[j] {
		rev = append(rev, a.Events[j].Service)
	}
	p := path{Services: []string{a.Events[j].Service}, Latency: a.Events[i].at().Sub(a.Events[j].at())}
	for k := len(rev) - 1; k >= 0; k-- {
		p.Services = append(p.Services, rev[k])
	}
	return p
}

// upstreams infers, for each ordered event, the earlier event that most
// likely caused it (-1 for none); see upstreamOf.
func upstreams(evs []*event) []int {
	up := make([]int, len(evs))
	for i := range evs {
		up[i] = upstreamOf(evs, up, i)
	}
	return up
}

// upstreamOf picks the cause of evs[i] among the earlier events, given the
// upstreams already inferred for them. In order of preference:
//  1. an event of the same trace (the publisher continued the trace);
//  2. the upstream of an earlier event of the same service and event type
//     (fan-out: siblings share their cause);
//  3. for a traced event, an untraced one (a trace starts where none was);
//  4. any earlier event.
//
// Within each rule the latest event of another service wins over the latest
// of the same service (a service rarely consumes its own events).
func upstreamOf(evs []*event, up []int, i int) int {
	e := evs[i]
	if e.Ctx.Real() {
		if j := latestBefore(evs, i, func(o *event) bool { return o.Ctx.Real() && o.Ctx.TraceID == e.Ctx.TraceID }); j >= 0 {
			return j
		}
	}
	for j := i - 1; j >= 0; j-- {
		if o := evs[j]; o.Service == e.Service && o.EventType == e.EventType && up[j] >= 0 {
			return up[j]
		}
	}
	if e.Ctx.Real() {
		if j := latestBefore(evs, i, func(o *event) bool { return !o.Ctx.Real() }); j >= 0 {
			return j
		}
	}
	return latestBefore(evs, i, func(*event) bool { return true })
}

// latestBefore returns the latest event before i that ok accepts, preferring
// one of another service than evs[i]; -1 when ok accepts none.
func latestBefore(evs []*event, i int, ok func(*event) bool) int {
	same := -1
	for j := i - 1; j >= 0; j-- {
		if !ok(evs[j]) {
			continue
		}
		if evs[j].Service != evs[i].Service {
			return j
		}
		if same < 0 {
			same = j
		}
	}
	return same
}

// breaksAt reports how the publisher of evs[i] lost the ids of its upstream
// evs[u]: a dropped or replaced correlation id, a dropped or replaced trace.
func breaksAt(evs []*event, i, u int) []brk {
	e, o := evs[i], evs[u]
	var out []brk
	switch {
	case e.Correlation == "" && o.Correlation != "":
		out = append(out, brk{Service: e.Service, Reason: BreakCorrelationDropped, Event: i})
	case e.Correlation != "" && o.Correlation != "" && e.Correlation != o.Correlation:
		out = append(out, brk{Service: e.Service, Reason: BreakCorrelationReplaced, Event: i})
	}
	switch {
	case !e.Ctx.Real() && o.Ctx.Real():
		out = append(out, brk{Service: e.Service, Reason: BreakTraceDropped, Event: i})
	case e.Ctx.Real() && o.Ctx.Real() && e.Ctx.TraceID != o.Ctx.TraceID:
		out = append(out, brk{Service: e.Service, Reason: BreakTraceReplaced, Event: i})
	}
	return out
}
