package trace

import (
	"slices"
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
	From, To *seenEvent
	Latency  time.Duration
	Exact    bool // span evidence, not inference
}

// path is one root-to-leaf run of a chain: a flow from the event that
// started it to an event nothing followed.
type path struct {
	Services []string
	Latency  time.Duration
	Exact    bool       // every hop of it is exact
	Leaf     *seenEvent // the event that ends it
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

// ambiguity is an event whose cause inference could not pick among
// several events of service From.
type ambiguity struct {
	From, To string
	Event    *seenEvent
}

// analysis is what a closed chain tells.
type analysis struct {
	Events    []*seenEvent // in order
	Up        []int        // index of each event's upstream in Events; -1 for a root or an ambiguous event
	How       []Cause
	Cands     [][]int // candidates of each ambiguous event
	Hops      []hop
	Paths     []path
	Ambiguous []ambiguity // events with several possible causes: no hop counted
	Unsure    int         // flows through an ambiguous event whose pathway is not known either
	Breaks    []brk
	Trace     oteltrace.TraceID // the first real trace id, else the correlation-derived one
}

// analyse orders a closed chain's events, decides each one's upstream
// (inferCauses), and derives hops, root-to-leaf paths and breaks.
func analyse(c *chain) analysis {
	evs := c.sorted()
	cs := inferCauses(evs, c.edges)
	a := analysis{Events: evs, Up: cs.Up, How: cs.How, Cands: cs.Cands, Trace: evs[0].Ctx.TraceID}
	if len(c.traces) > 0 {
		a.Trace = c.traces[0]
	}
	leaf := make([]bool, len(evs))
	for i := range evs {
		leaf[i] = true
	}
	for i, u := range a.Up {
		for _, k := range a.Cands[i] {
			leaf[k] = false // it may have caused evs[i]: no flow ends there for sure
		}
		if a.How[i] == CauseAmbiguous {
			a.Ambiguous = append(a.Ambiguous, ambiguity{From: evs[a.Cands[i][0]].Service, To: evs[i].Service, Event: evs[i]})
			a.Breaks = append(a.Breaks, commonBreaks(evs, i, a.Cands[i])...)
		}
		if u < 0 {
			continue
		}
		leaf[u] = false
		a.Hops = append(a.Hops, hop{From: evs[u], To: evs[i], Latency: evs[i].at().Sub(evs[u].at()), Exact: a.How[i] == CauseExact})
		a.Breaks = append(a.Breaks, breaksAt(evs, i, u)...)
	}
	memo := map[int]*walk{}
	for i := range evs {
		if !leaf[i] || a.How[i] == CauseRoot || (a.How[i] == CauseExact && a.Up[i] < 0) {
			continue
		}
		w := a.walk(i, memo, 0)
		if !w.ok {
			a.Unsure++
			continue
		}
		a.Paths = append(a.Paths, path{Services: w.services, Latency: evs[i].at().Sub(evs[w.root].at()), Exact: w.exact, Leaf: evs[i]})
	}
	return a
}

// walk is the way from an event back to its root.
type walk struct {
	services []string // root first
	root     int
	exact    bool
	ok       bool // the pathway is known: every ambiguous event on the way has candidates with one same way back
}

// maxDepth bounds a walk (span evidence could, in theory, loop).
const maxDepth = 256

// walk follows upstreams from event i back to its root; through an
// ambiguous event only when all its candidates lead back the same way.
func (a analysis) walk(i int, memo map[int]*walk, depth int) walk {
	if w := memo[i]; w != nil {
		return *w
	}
	memo[i] = &walk{} // a loop reads as not ok
	w := walk{ok: depth < maxDepth}
	switch {
	case !w.ok:
	case a.Up[i] >= 0:
		w = a.walk(a.Up[i], memo, depth+1)
		w.exact = w.exact && a.How[i] == CauseExact
	case a.How[i] == CauseAmbiguous:
		w = a.walk(a.Cands[i][0], memo, depth+1)
		for _, k := range a.Cands[i][1:] {
			o := a.walk(k, memo, depth+1)
			w.ok = w.ok && o.ok && o.root == w.root && slices.Equal(o.services, w.services)
		}
		w.exact = false
	default:
		w = walk{root: i, exact: true, ok: true}
	}
	if w.ok {
		w.services = append(slices.Clone(w.services), a.Events[i].Service)
	}
	memo[i] = &w
	return w
}

// commonBreaks are the breaks of an ambiguous event that every candidate
// upstream agrees on.
func commonBreaks(evs []*seenEvent, i int, cands []int) []brk {
	out := breaksAt(evs, i, cands[0])
	for _, k := range cands[1:] {
		other := breaksAt(evs, i, k)
		out = slices.DeleteFunc(out, func(b brk) bool { return !slices.Contains(other, b) })
	}
	return out
}

// breaksAt reports how the publisher of evs[i] lost the ids of its upstream
// evs[u]: a dropped or replaced correlation id, a dropped or replaced trace.
func breaksAt(evs []*seenEvent, i, u int) []brk {
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
