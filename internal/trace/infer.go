package trace

import (
	oteltrace "go.opentelemetry.io/otel/trace"
)

// Cause says how an event's upstream (the event whose processing
// caused it) was found.
type Cause string

// Causes, per event and per flow.
const (
	CauseExact     Cause = "exact"     // span evidence: the send span's process-span ancestor consumed the upstream record (or the send started a trace: an exact root)
	CauseInferred  Cause = "inferred"  // headers, envelope trace context, correlation ids, record keys and partition order
	CauseAmbiguous Cause = "ambiguous" // several earlier events could have caused it and nothing tells which; no upstream is attached
	CauseRoot      Cause = "root"      // no earlier event of another service: the chain starts here
)

// spanRef names one span: a record's send span is its traceparent.
type spanRef struct {
	Trace oteltrace.TraceID
	Span  oteltrace.SpanID
}

// edge is what the span tree says about the record published from a send
// span: the send span of the record its process span consumed, or Root
// when the send did not happen while processing a Kafka record.
type edge struct {
	Parent spanRef
	Record recordRef // the consumed record, when the process span names it (wins over Parent)
	Root   bool
}

// sendSpan is the span that published e (its traceparent, or its envelope
// trace and span id); ok is false when e names none.
func sendSpan(e *seenEvent) (spanRef, bool) {
	if !e.Ctx.HasParent() || e.Ctx.Derived {
		return spanRef{}, false
	}
	return spanRef{Trace: e.Ctx.TraceID, Span: e.Ctx.SpanID}, true
}

// stage is an event's (service, event type): the events of one step of a
// flow, siblings of a fan-out.
type stage struct{ service, typ string }

func stageOf(e *seenEvent) stage { return stage{e.Service, e.EventType} }

// causes is the upstream decision for every event of a closed chain, in
// order: Up[i] is the index of the event that caused event i, -1 for a
// root or an ambiguous event; Cands[i] lists the candidates of an
// ambiguous event.
type causes struct {
	Up    []int
	How   []Cause
	Cands [][]int
}

// inferCauses decides every event's upstream. Span evidence (edges, keyed
// by the send span of the caused record) wins and is exact. Without it the
// upstream is inferred and never guessed:
//
//  1. only an earlier event of another service can be the cause (a service
//     consuming its own events needs spans to be shown);
//  2. the upstream stage of a stage (service, event type) is that of its
//     first event: the stage of the latest earlier event of another
//     service, preferring the same real trace; siblings share it;
//  3. the candidates are the earlier events of that stage; of them those
//     in the event's real trace, then those with its record key, are kept
//     when some are;
//  4. one candidate: inferred. Several: when each stage sits in one
//     partition and both have as many events, the n-th of the upstream
//     stage caused the n-th (FIFO, partition order); else ambiguous.
func inferCauses(evs []*seenEvent, edges map[spanRef]edge) causes {
	c := causes{Up: make([]int, len(evs)), How: make([]Cause, len(evs)), Cands: make([][]int, len(evs))}
	bySpan, byRecord := map[spanRef]int{}, map[recordRef]int{}
	for i, e := range evs {
		if s, ok := sendSpan(e); ok {
			bySpan[s] = i
		}
		byRecord[recordRef{Topic: e.Topic, Partition: e.Partition, Offset: e.Offset}] = i
	}
	upStage := map[stage]stage{}
	for i, e := range evs {
		c.Up[i], c.How[i] = -1, CauseRoot
		if j, how, ok := exactCause(e, i, bySpan, byRecord, edges); ok {
			c.Up[i], c.How[i] = j, how
			if j >= 0 {
				if _, set := upStage[stageOf(e)]; !set {
					upStage[stageOf(e)] = stageOf(evs[j])
				}
			}
			continue
		}
		cands := candidates(evs, i, upStage)
		switch {
		case len(cands) == 1:
			c.Up[i], c.How[i] = cands[0], CauseInferred
		case len(cands) > 1:
			if j := fifo(evs, i, cands); j >= 0 {
				c.Up[i], c.How[i] = j, CauseInferred
			} else {
				c.How[i], c.Cands[i] = CauseAmbiguous, cands
			}
		}
	}
	return c
}

// exactCause reads e's upstream from the span edges: the event published
// by the send span its process span consumed (exact), or an exact root.
// ok is false when the spans do not say, or name a record not in the chain.
func exactCause(e *seenEvent, i int, bySpan map[spanRef]int, byRecord map[recordRef]int, edges map[spanRef]edge) (int, Cause, bool) {
	s, ok := sendSpan(e)
	if !ok {
		return 0, "", false
	}
	ed, ok := edges[s]
	if !ok {
		return 0, "", false
	}
	if ed.Root {
		return -1, CauseExact, true
	}
	j, ok := bySpan[ed.Parent]
	if ed.Record.known() {
		j, ok = byRecord[ed.Record]
	}
	if !ok || j == i {
		return 0, "", false
	}
	return j, CauseExact, true
}

// candidates are the events that may have caused evs[i] (rules 1-3 of
// inferCauses); upStage remembers each stage's upstream stage.
func candidates(evs []*seenEvent, i int, upStage map[stage]stage) []int {
	e := evs[i]
	pool := earlierOthers(evs, i)
	if len(pool) == 0 {
		return nil
	}
	if e.Ctx.Real() {
		if same := filter(evs, pool, func(o *seenEvent) bool { return o.Ctx.Real() && o.Ctx.TraceID == e.Ctx.TraceID }); len(same) > 0 {
			pool = same
		}
	}
	st, ok := upStage[stageOf(e)]
	if !ok {
		st = stageOf(evs[pool[len(pool)-1]])
		upStage[stageOf(e)] = st
	}
	cands := filter(evs, pool, func(o *seenEvent) bool { return stageOf(o) == st })
	if len(cands) == 0 { // this event came from elsewhere than its siblings
		last := stageOf(evs[pool[len(pool)-1]])
		cands = filter(evs, pool, func(o *seenEvent) bool { return stageOf(o) == last })
	}
	if e.Key != "" {
		if keyed := filter(evs, cands, func(o *seenEvent) bool { return o.Key == e.Key }); len(keyed) > 0 {
			cands = keyed
		}
	}
	return cands
}

// earlierOthers are the indexes of the events before i of another service.
func earlierOthers(evs []*seenEvent, i int) []int {
	var out []int
	for j := range i {
		if evs[j].Service != evs[i].Service {
			out = append(out, j)
		}
	}
	return out
}

func filter(evs []*seenEvent, idx []int, ok func(*seenEvent) bool) []int {
	var out []int
	for _, j := range idx {
		if ok(evs[j]) {
			out = append(out, j)
		}
	}
	return out
}

// fifo matches evs[i] to its upstream by partition order when that order
// is known: every event of the candidates' stage sits in one partition,
// every event of evs[i]'s stage in one partition, and the two stages have
// as many events; the n-th (by offset) of the upstream stage caused the
// n-th, provided it came first. -1 when the order does not decide.
func fifo(evs []*seenEvent, i int, cands []int) int {
	down := sameStage(evs, stageOf(evs[i]))
	up := sameStage(evs, stageOf(evs[cands[0]]))
	if len(up) != len(down) || !onePartition(evs, up) || !onePartition(evs, down) {
		return -1
	}
	sortByOffset(evs, up)
	sortByOffset(evs, down)
	for n, j := range down {
		if j != i {
			continue
		}
		u := up[n]
		if evs[u].at().After(evs[i].at()) {
			return -1
		}
		for _, c := range cands {
			if c == u {
				return u
			}
		}
	}
	return -1
}

func sameStage(evs []*seenEvent, st stage) []int {
	var out []int
	for j, e := range evs {
		if stageOf(e) == st {
			out = append(out, j)
		}
	}
	return out
}

func onePartition(evs []*seenEvent, idx []int) bool {
	for _, j := range idx[1:] {
		if evs[j].Topic != evs[idx[0]].Topic || evs[j].Partition != evs[idx[0]].Partition {
			return false
		}
	}
	return true
}

func sortByOffset(evs []*seenEvent, idx []int) {
	for a := 1; a < len(idx); a++ {
		for b := a; b > 0 && evs[idx[b]].Offset < evs[idx[b-1]].Offset; b-- {
			idx[b], idx[b-1] = idx[b-1], idx[b]
		}
	}
}
