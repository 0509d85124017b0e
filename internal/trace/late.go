package trace

import (
	"container/list"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// closedSet remembers closed chains for trace.late_window, indexed by
// their keys, so that an event arriving after its chain closed — a
// consumer behind by more than the window — joins the chain it belongs to
// (its cause is then decided among the chain's events, by span evidence or
// inference) instead of opening a chain of its own, where it could only be
// a root or, worse, be taken for the cause of its own siblings.
type closedSet struct {
	byCorrelation map[string]*chain
	byTrace       map[oteltrace.TraceID]*chain
	byClose       *list.List // of *chain, closed first first
	max           int
	total         *int         // remembered chains of every set sharing the bound
	mem           *stateBudget // bytes of every chain set sharing the budget; nil: not accounted
}

// newClosedSet returns an empty set; total counts the chains remembered by
// every set created with the same pointer, so that limit bounds them
// together (like the open chains of every routed partition).
func newClosedSet(limit int, total *int, mem *stateBudget) *closedSet {
	return &closedSet{byCorrelation: map[string]*chain{}, byTrace: map[oteltrace.TraceID]*chain{}, byClose: list.New(), max: limit, total: total, mem: mem}
}

// remember keeps c (counted) until its late window passes, counted from
// its last arrival (so the set is a function of the messages, like
// chains); the oldest remembered chain is forgotten when the set is full.
func (cl *closedSet) remember(c *chain) {
	if cl == nil || cl.max <= 0 {
		return
	}
	if *cl.total >= cl.max {
		if cl.byClose.Len() == 0 {
			return // the other partitions' chains fill the bound
		}
		cl.forget(cl.byClose.Front().Value.(*chain))
	}
	*cl.total++
	c.eventIDs = nil // compacted: rebuilt from the events if a late event reopens it
	c.size = chainSize(c)
	if cl.mem != nil {
		cl.mem.closed += c.size
	}
	c.elem = cl.byClose.PushBack(c)
	for _, id := range c.correlations {
		cl.byCorrelation[id] = c
	}
	for _, id := range c.traces {
		cl.byTrace[id] = c
	}
}

// find returns the remembered chain of e, or nil.
func (cl *closedSet) find(e *seenEvent) *chain {
	if e.Correlation != "" {
		if c := cl.byCorrelation[e.Correlation]; c != nil {
			return c
		}
	}
	if e.Ctx.Real() {
		return cl.byTrace[e.Ctx.TraceID]
	}
	return nil
}

// expire forgets the chains whose last event arrived at or before deadline.
func (cl *closedSet) expire(deadline time.Time) {
	if cl == nil {
		return
	}
	for el := cl.byClose.Front(); el != nil; el = cl.byClose.Front() {
		c := el.Value.(*chain)
		if c.lastArrival.After(deadline) {
			return
		}
		cl.forget(c)
	}
}

func (cl *closedSet) forget(c *chain) {
	for _, id := range c.correlations {
		if cl.byCorrelation[id] == c {
			delete(cl.byCorrelation, id)
		}
	}
	for _, id := range c.traces {
		if cl.byTrace[id] == c {
			delete(cl.byTrace, id)
		}
	}
	cl.byClose.Remove(c.elem)
	c.elem = nil
	*cl.total--
	if cl.mem != nil {
		cl.mem.closed -= c.size
	}
}

// reopen puts a remembered chain back among the open ones (when there is
// room), for a late event; nil when it cannot.
func (cs *chains) reopen(e *seenEvent) *chain {
	if cs.closed == nil {
		return nil
	}
	c := cs.closed.find(e)
	if c == nil || *cs.total >= cs.maxOpen {
		return nil
	}
	cs.closed.forget(c)
	c.eventIDs = make(map[string]struct{}, len(c.events))
	for _, o := range c.events {
		if o.EventID != "" {
			c.eventIDs[o.EventID] = struct{}{}
		}
	}
	c.elem = cs.byAge.PushBack(c)
	*cs.total++
	if cs.mem != nil {
		cs.mem.open += c.size
	}
	for _, id := range c.correlations {
		cs.byCorrelation[id] = c
	}
	for _, id := range c.traces {
		cs.byTrace[id] = c
	}
	if c.first >= 0 {
		cs.byFirst[c.first] = c
	}
	c.reopened++
	return c
}

// counted is what a chain's last close counted, so that closing it again
// after late events counts only the difference.
type counted struct {
	unsure int
	hops   map[[2]*seenEvent]hop
	paths  map[pathKey]path
	how    map[*seenEvent]Cause
	amb    map[*seenEvent]ambiguity
}

// howOf is how e's upstream was found when k was counted.
func (k *counted) howOf(e *seenEvent) (Cause, bool) {
	if k == nil {
		return "", false
	}
	h, ok := k.how[e]
	return h, ok
}

type pathKey struct {
	leaf    *seenEvent
	pathway string
}

// countedOf is the record of what analysis a counts.
func countedOf(a analysis) *counted {
	k := &counted{unsure: a.Unsure, hops: map[[2]*seenEvent]hop{}, paths: map[pathKey]path{}, how: map[*seenEvent]Cause{}, amb: map[*seenEvent]ambiguity{}}
	for _, h := range a.Hops {
		k.hops[[2]*seenEvent{h.From, h.To}] = h
	}
	for _, p := range a.Paths {
		k.paths[pathKey{p.Leaf, p.Pathway()}] = p
	}
	for i, e := range a.Events {
		k.how[e] = a.How[i]
	}
	for _, x := range a.Ambiguous {
		k.amb[x.Event] = x
	}
	return k
}

// delta is what to add and take back when a chain counted before (prev)
// is counted again as now.
type delta struct {
	addHops, subHops   []hop
	addPaths, subPaths []path
	addHow, subHow     []Cause
	addAmb, subAmb     []ambiguity
	newEvents          int // events not counted before
	unsure             int // flows through an ambiguous event whose pathway is unknown, more than before
}

func diff(prev, now *counted) delta {
	if prev == nil {
		prev = &counted{}
	}
	d := delta{unsure: max(now.unsure-prev.unsure, 0)}
	for k, h := range now.hops {
		if o, ok := prev.hops[k]; !ok || o.Exact != h.Exact {
			d.addHops = append(d.addHops, h)
		}
	}
	for k, h := range prev.hops {
		if n, ok := now.hops[k]; !ok || n.Exact != h.Exact {
			d.subHops = append(d.subHops, h)
		}
	}
	for k, p := range now.paths {
		if o, ok := prev.paths[k]; !ok || o.Exact != p.Exact || o.Latency != p.Latency {
			d.addPaths = append(d.addPaths, p)
		}
	}
	for k, p := range prev.paths {
		if n, ok := now.paths[k]; !ok || n.Exact != p.Exact || n.Latency != p.Latency {
			d.subPaths = append(d.subPaths, p)
		}
	}
	for e, h := range now.how {
		o, ok := prev.how[e]
		if !ok {
			d.newEvents++
		}
		if !ok || o != h {
			d.addHow = append(d.addHow, h)
		}
		if ok && o != h {
			d.subHow = append(d.subHow, o)
		}
	}
	for e, x := range now.amb {
		if _, ok := prev.amb[e]; !ok {
			d.addAmb = append(d.addAmb, x)
		}
	}
	for e, x := range prev.amb {
		if _, ok := now.amb[e]; !ok {
			d.subAmb = append(d.subAmb, x)
		}
	}
	return d
}
