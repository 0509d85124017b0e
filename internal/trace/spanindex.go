package trace

import (
	"container/list"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// Span kinds as OTLP numbers them (opentelemetry.proto.trace.v1.Span.SpanKind).
const (
	kindInternal = 1
	kindServer   = 2
	kindClient   = 3
	kindProducer = 4
	kindConsumer = 5
)

// maxWalk bounds the ancestors followed from a send span to its process span.
const maxWalk = 64

// spanRec is what the join keeps of one exported span: ids, kind and links.
type spanRec struct {
	Span     oteltrace.SpanID
	Parent   oteltrace.SpanID // zero for a root
	Kind     int
	Links    []spanRef
	Consumed recordRef // a process span's record (messaging.destination.name, .partition.id, messaging.kafka.offset); zero when not told
}

// recordRef names one Kafka record.
type recordRef struct {
	Topic     string
	Partition int32
	Offset    int64
}

// known reports whether r names a record.
func (r recordRef) known() bool { return r.Topic != "" && r.Offset >= 0 }

// traceSpans are the spans of one trace held for the join.
type traceSpans struct {
	id    oteltrace.TraceID
	spans map[oteltrace.SpanID]spanRec
	last  time.Time // last arrival; the trace is forgotten a hold after it
	elem  *list.Element
}

// spanIndex holds recent spans by trace id, bounded in spans, and answers
// what a record's send span says about its cause (edgeOf). It is a
// function of the spans given to it in order, with their arrival times, so
// a partition's next owner rebuilds it by replay. Not safe for concurrent
// use: the stitcher's loop owns it.
type spanIndex struct {
	byTrace  map[oteltrace.TraceID]*traceSpans
	byAge    *list.List // of *traceSpans, least recently extended first
	spans    int
	maxSpans int
	maxTrace int
	hold     time.Duration
}

func newSpanIndex(maxSpans, maxTrace int, hold time.Duration) *spanIndex {
	return &spanIndex{byTrace: map[oteltrace.TraceID]*traceSpans{}, byAge: list.New(),
		maxSpans: maxSpans, maxTrace: maxTrace, hold: hold}
}

// add holds the spans of one trace that arrived at now; it returns how many
// it could not hold (the index or the trace is full).
func (x *spanIndex) add(id oteltrace.TraceID, spans []spanRec, now time.Time) (dropped int) {
	x.expire(now.Add(-x.hold))
	t := x.byTrace[id]
	if t == nil {
		t = &traceSpans{id: id, spans: map[oteltrace.SpanID]spanRec{}}
		t.elem = x.byAge.PushBack(t)
		x.byTrace[id] = t
	}
	for _, s := range spans {
		if _, ok := t.spans[s.Span]; !ok && (x.spans >= x.maxSpans || len(t.spans) >= x.maxTrace) {
			dropped++
			continue
		} else if !ok {
			x.spans++
		}
		t.spans[s.Span] = s
	}
	t.last = now
	x.byAge.MoveToBack(t.elem)
	return dropped
}

// take removes and returns the spans of a trace (to send them on).
func (x *spanIndex) take(id oteltrace.TraceID) []spanRec {
	t := x.byTrace[id]
	if t == nil {
		return nil
	}
	x.remove(t)
	out := make([]spanRec, 0, len(t.spans))
	for _, s := range t.spans {
		out = append(out, s)
	}
	return out
}

// expire forgets the traces last extended at or before deadline.
func (x *spanIndex) expire(deadline time.Time) {
	for el := x.byAge.Front(); el != nil; el = x.byAge.Front() {
		t := el.Value.(*traceSpans)
		if t.last.After(deadline) {
			return
		}
		x.remove(t)
	}
}

func (x *spanIndex) remove(t *traceSpans) {
	x.byAge.Remove(t.elem)
	delete(x.byTrace, t.id)
	x.spans -= len(t.spans)
}

// edgeOf tells what the span tree says about the record sent from span s:
// the send span of the record that the nearest process (CONSUMER) span
// above s consumed — its one link (the creation context, semantic
// conventions 1.37), else its parent — or Root when s descends from no
// process span (the send started a flow: a request, a timer). ok is false
// when the spans do not tell: s or an ancestor is not (yet) here, or the
// process span consumed several records or one without trace context.
func (x *spanIndex) edgeOf(s spanRef) (edge, bool) {
	t := x.byTrace[s.Trace]
	if t == nil {
		return edge{}, false
	}
	cur, ok := t.spans[s.Span]
	if !ok {
		return edge{}, false
	}
	for range maxWalk {
		if !cur.Parent.IsValid() {
			return edge{Root: true}, true
		}
		up, ok := t.spans[cur.Parent]
		if !ok {
			return edge{}, false
		}
		if up.Kind == kindConsumer {
			return consumedBy(s.Trace, up)
		}
		cur = up
	}
	return edge{}, false
}

// consumedBy is the record a process span consumed: named by its
// attributes (topic, partition, offset: exact even when that record's
// producer did not trace), else by its one link, else by its parent (the
// send span itself, as instrumentations that parent a single-message
// process span do).
func consumedBy(trace oteltrace.TraceID, p spanRec) (edge, bool) {
	switch {
	case p.Consumed.known():
		return edge{Record: p.Consumed}, true
	case len(p.Links) == 1:
		return edge{Parent: p.Links[0]}, true
	case len(p.Links) > 1: // a batch: which record caused the send is not told
		return edge{}, false
	case p.Parent.IsValid():
		return edge{Parent: spanRef{Trace: trace, Span: p.Parent}}, true
	}
	return edge{}, false // it consumed a record without trace context
}

// edgesFor collects the span evidence about every send span of c's events.
func (x *spanIndex) edgesFor(c *chain) {
	if x == nil || len(x.byTrace) == 0 {
		return
	}
	for _, e := range c.events {
		s, ok := sendSpan(e)
		if !ok {
			continue
		}
		if ed, ok := x.edgeOf(s); ok {
			c.addEdge(s, ed, 2*len(c.events)+1)
		}
	}
}
