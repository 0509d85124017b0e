package trace

import (
	"container/list"
	"slices"
	"strings"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// unknownService names events without a source service.
const unknownService = "unknown"

// seenEvent is what the stitcher keeps of one observed record: references and
// envelope fields, never the payload.
type seenEvent struct {
	Topic       string
	Partition   int32
	Offset      int64
	Key         string // record key (at most maxKeyBytes), for messaging.kafka.message.key
	EventID     string
	EventType   string
	Service     string // bounded service label value
	Correlation string
	Ctx         Context
	EventTime   time.Time // envelope time; zero when absent
	RecordTime  time.Time // Kafka record time
	Observed    time.Time // when eventwatch read the record
	Size        int
	Leader      string            // broker (host:port) the record was fetched from, for server.address; empty when unknown
	DeadLetter  bool              // a dead-letter copy of the event EventID names (see deadletter.go): never stitched as an event
	seq         uint64            // arrival order, the last tie-breaker
	late        bool              // it reopened its chain, closed before it arrived
	exported    bool              // its span was exported (or deliberately not) where it was first stitched
	msg         int64             // offset of the routing-topic message that brought it; -1 when stitched locally
	span        oteltrace.SpanID  // span exported for this event; zero when none
	spanTrace   oteltrace.TraceID // trace of that span
}

// at is the event's time for ordering and latency: the envelope time, else
// the record time.
func (e *seenEvent) at() time.Time {
	if !e.EventTime.IsZero() {
		return e.EventTime
	}
	return e.RecordTime
}

// chain is one open flow: events that share a correlation id or a (real)
// trace id.
type chain struct {
	correlations []string            // distinct correlation ids, first seen first
	traces       []oteltrace.TraceID // distinct real trace ids, first seen first
	events       []*seenEvent
	eventIDs     map[string]struct{}
	lastArrival  time.Time
	elem         *list.Element    // position in chains.byAge
	first        int64            // offset of its first routing-topic message; -1 when stitched locally
	linked       map[string]bool  // keys of other partitions already told where this chain lives
	edges        map[spanRef]edge // span evidence, by the send span of the caused record
	counted      *counted         // what its last close counted; nil while never closed
	reopened     int              // times a late event reopened it
	redelivered  map[string]int   // event id -> copies from other record positions (see countRedelivery)
	deadLetters  []deadLetter     // dead-letter copies of its events seen while it was open (see noteDeadLetter)
	size         int64            // estimated heap bytes accounted to the state budget (see chainSize)
}

// has reports whether the chain already holds an event with id.
func (c *chain) has(id string) bool {
	_, ok := c.eventIDs[id]
	return id != "" && ok
}

// upstream returns the event of the chain that caused e (see
// inferCauses), or nil when none is known; e must be in the chain.
func (c *chain) upstream(e *seenEvent) *seenEvent {
	evs := c.sorted()
	cs := inferCauses(evs, c.edges)
	for i, o := range evs {
		if o == e && cs.Up[i] >= 0 {
			return evs[cs.Up[i]]
		}
	}
	return nil
}

// addEdge records span evidence about the record sent from span s; the
// chain keeps at most limit edges.
func (c *chain) addEdge(s spanRef, ed edge, limit int) bool {
	if _, ok := c.edges[s]; !ok && len(c.edges) >= limit {
		return false
	}
	if c.edges == nil {
		c.edges = map[spanRef]edge{}
	}
	c.edges[s] = ed
	return true
}

// sorted returns the chain's events by event time, then record time, then
// arrival.
func (c *chain) sorted() []*seenEvent {
	out := slices.Clone(c.events)
	slices.SortStableFunc(out, func(a, b *seenEvent) int {
		switch {
		case after(b, a):
			return -1
		case after(a, b):
			return 1
		}
		return 0
	})
	return out
}

// after reports whether a is ordered after b.
func after(a, b *seenEvent) bool {
	if !a.at().Equal(b.at()) {
		return a.at().After(b.at())
	}
	if !a.RecordTime.Equal(b.RecordTime) {
		return a.RecordTime.After(b.RecordTime)
	}
	return a.seq > b.seq
}

// chains is the bounded set of open chains, indexed by correlation id and by
// real trace id, and ordered by last arrival for expiry.
type chains struct {
	byCorrelation map[string]*chain
	byTrace       map[oteltrace.TraceID]*chain
	byAge         *list.List       // of *chain, least recently extended first
	byFirst       map[int64]*chain // by first routing-topic offset (routed chains only)
	closed        *closedSet       // closed chains remembered for late events; nil: none
	total         *int             // open chains of every chains sharing the bound
	mem           *stateBudget     // bytes of every chains sharing the budget; nil: not accounted
	maxOpen       int
	maxEvents     int
}

// newChains returns an empty set; total counts the open chains of every set
// created with the same pointer, so that maxOpen bounds them together.
func newChains(maxOpen, maxEvents int, total *int) *chains {
	return &chains{
		byCorrelation: make(map[string]*chain),
		byTrace:       make(map[oteltrace.TraceID]*chain),
		byAge:         list.New(),
		byFirst:       make(map[int64]*chain),
		total:         total,
		maxOpen:       maxOpen,
		maxEvents:     maxEvents,
	}
}

// byKey returns the open chain holding a chain key (see eventKeys), or nil.
func (cs *chains) byKey(key string) *chain {
	if keyIsTrace(key) {
		if id, ok := keyTrace(key); ok {
			return cs.byTrace[id]
		}
		return nil
	}
	return cs.byCorrelation[strings.TrimPrefix(key, corrKeyPrefix)]
}

// Reasons an event is not stitched (the reason label of eventwatch_trace_dropped_total).
const (
	dropQueueFull = "queue_full"
	dropMaxChains = "max_chains"
	dropChainFull = "chain_full"
	dropNoContext = "no_context"
	dropDuplicate = "duplicate"
)

// add puts e into its chain, opening or merging chains as needed, and returns
// the chain, or a drop reason when e is not stitched.
func (cs *chains) add(e *seenEvent, now time.Time) (*chain, string) {
	if e.Correlation == "" && !e.Ctx.Real() {
		return nil, dropNoContext
	}
	c := cs.find(e)
	if c == nil {
		if c = cs.reopen(e); c != nil {
			e.late = true
		}
	}
	if c == nil {
		if *cs.total >= cs.maxOpen {
			return nil, dropMaxChains
		}
		c = &chain{eventIDs: make(map[string]struct{}), first: e.msg, linked: map[string]bool{}}
		c.elem = cs.byAge.PushBack(c)
		*cs.total++
		cs.grow(c, chainBytes)
		if e.msg >= 0 {
			cs.byFirst[e.msg] = c
		}
	}
	if c.has(e.EventID) {
		c.countRedelivery(e)
		return c, dropDuplicate
	}
	if len(c.events) >= cs.maxEvents {
		return c, dropChainFull
	}
	cs.append(c, e, now)
	return c, ""
}

// find returns the open chain e belongs to: by correlation id, by real trace
// id, merging the two when they differ and the merge fits.
func (cs *chains) find(e *seenEvent) *chain {
	var byCorr, byTrace *chain
	if e.Correlation != "" {
		byCorr = cs.byCorrelation[e.Correlation]
	}
	if e.Ctx.Real() {
		byTrace = cs.byTrace[e.Ctx.TraceID]
	}
	switch {
	case byCorr == nil:
		return byTrace
	case byTrace == nil || byTrace == byCorr:
		return byCorr
	case len(byCorr.events)+len(byTrace.events) <= cs.maxEvents:
		cs.merge(byCorr, byTrace)
	}
	return byCorr
}

// merge moves every event and index of src into dst and forgets src.
func (cs *chains) merge(dst, src *chain) {
	for _, e := range src.events {
		dst.events = append(dst.events, e)
		dst.eventIDs[e.EventID] = struct{}{}
	}
	for _, id := range src.correlations {
		dst.correlations = appendNew(dst.correlations, id)
		cs.byCorrelation[id] = dst
	}
	for _, id := range src.traces {
		dst.traces = appendNew(dst.traces, id)
		cs.byTrace[id] = dst
	}
	if src.lastArrival.After(dst.lastArrival) {
		dst.lastArrival = src.lastArrival
	}
	for k := range src.linked {
		dst.linked[k] = true
	}
	for k, ed := range src.edges {
		dst.addEdge(k, ed, 2*cs.maxEvents)
	}
	for _, d := range src.deadLetters {
		if len(dst.deadLetters) < maxDeadLetters {
			dst.deadLetters = append(dst.deadLetters, d)
		}
	}
	for id, n := range src.redelivered {
		if dst.redelivered == nil {
			dst.redelivered = map[string]int{}
		}
		dst.redelivered[id] += n
	}
	if src.first >= 0 {
		delete(cs.byFirst, src.first)
		if src.first < dst.first {
			delete(cs.byFirst, dst.first)
			dst.first = src.first
			cs.byFirst[dst.first] = dst
		}
	}
	cs.byAge.Remove(src.elem)
	*cs.total--
	dst.size += src.size // the bytes move with the events
}

func (cs *chains) append(c *chain, e *seenEvent, now time.Time) {
	c.events = append(c.events, e)
	if e.EventID != "" {
		c.eventIDs[e.EventID] = struct{}{}
	}
	if e.Correlation != "" {
		c.correlations = appendNew(c.correlations, e.Correlation)
		cs.byCorrelation[e.Correlation] = c
	}
	if e.Ctx.Real() {
		c.traces = appendNew(c.traces, e.Ctx.TraceID)
		cs.byTrace[e.Ctx.TraceID] = c
	}
	c.lastArrival = now
	cs.byAge.MoveToBack(c.elem)
	cs.grow(c, eventSize(e))
}

// expire removes and returns every chain whose last event arrived at or
// before deadline, oldest first.
func (cs *chains) expire(deadline time.Time) []*chain {
	var out []*chain
	for el := cs.byAge.Front(); el != nil; el = cs.byAge.Front() {
		c := el.Value.(*chain)
		if c.lastArrival.After(deadline) {
			break
		}
		cs.remove(c)
		out = append(out, c)
	}
	return out
}

// all removes and returns every open chain (on shutdown).
func (cs *chains) all() []*chain {
	return cs.expire(time.Unix(1<<62, 0))
}

func (cs *chains) remove(c *chain) {
	for _, id := range c.correlations {
		if cs.byCorrelation[id] == c {
			delete(cs.byCorrelation, id)
		}
	}
	for _, id := range c.traces {
		if cs.byTrace[id] == c {
			delete(cs.byTrace, id)
		}
	}
	if c.first >= 0 && cs.byFirst[c.first] == c {
		delete(cs.byFirst, c.first)
	}
	cs.byAge.Remove(c.elem)
	*cs.total--
	cs.grow(c, -c.size)
}

// open is the number of open chains.
func (cs *chains) open() int { return cs.byAge.Len() }

// empty reports whether the set holds no chain: none open, none closed
// and remembered for late events.
func (cs *chains) empty() bool {
	return cs.open() == 0 && (cs.closed == nil || cs.closed.byClose.Len() == 0)
}

func appendNew[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
