package trace

// stateBudget is the byte budget of the chain state (trace.max_state_bytes),
// shared by every chain set of a stitcher: the local set, or the set of
// each routed partition it owns. Sizes are estimates of the Go heap a
// chain holds (see chainSize), kept up to date as chains grow, close and
// go, so that the budget bounds the live heap the trace state takes and
// RSS plateaus (docs/operations.md).
type stateBudget struct {
	max    int64 // bytes; beyond it the oldest chains are evicted
	open   int64 // estimated bytes of open chains
	closed int64 // estimated bytes of closed chains remembered for late events
}

// over reports whether the state is larger than the budget.
func (b *stateBudget) over() bool { return b != nil && b.open+b.closed > b.max }

// Estimated heap bytes (64-bit) of the parts of a chain, calibrated
// against the heap of real chains (TestStateBytesEstimate): the chain with
// its maps, list element and index entries; each event with its record of
// the envelope (strings counted apart) and its event-id entry; each event
// of a closed chain in what its close counted (how, hops, paths).
const (
	chainBytes        = 640
	eventBytes        = 480
	countedEventBytes = 400
)

// eventSize is the estimated heap bytes of e in its chain.
func eventSize(e *seenEvent) int64 {
	return eventBytes + int64(len(e.Topic)+len(e.Key)+2*len(e.EventID)+len(e.EventType)+len(e.Correlation)+len(e.Leader))
}

// chainSize estimates the heap bytes of c, with what its last close
// counted.
func chainSize(c *chain) int64 {
	n := int64(chainBytes)
	for _, e := range c.events {
		n += eventSize(e)
	}
	if c.counted != nil {
		n += countedEventBytes * int64(len(c.events))
	}
	return n + c.deadLettersSize()
}

// grow accounts delta more bytes to the open chain c.
func (cs *chains) grow(c *chain, delta int64) {
	c.size += delta
	if cs.mem != nil {
		cs.mem.open += delta
	}
}

// oldest is the open chain extended least recently, nil when none.
func (cs *chains) oldest() *chain {
	if el := cs.byAge.Front(); el != nil {
		return el.Value.(*chain)
	}
	return nil
}

// oldest is the remembered chain closed first, nil when none.
func (cl *closedSet) oldest() *chain {
	if cl == nil {
		return nil
	}
	if el := cl.byClose.Front(); el != nil {
		return el.Value.(*chain)
	}
	return nil
}

// Label values of eventwatch_trace_evicted_chains_total and
// eventwatch_trace_state_bytes.
const (
	stateOpen   = "open"
	stateClosed = "closed"
)

// trim evicts chains, oldest first, until the state fits the budget:
// first closed chains remembered for late events (of cs's set, then of
// the other partitions'), then the open chains of cs, each closed and
// counted at once by closeEarly (not remembered). keep, the chain just
// extended, is never evicted.
func (s *Stitcher) trim(cs *chains, keep *chain, closeEarly func(*chain)) {
	for s.mem.over() {
		if s.evictClosed(cs.closed) {
			continue
		}
		c := cs.oldest()
		if c == nil || c == keep {
			return
		}
		cs.remove(c)
		s.m.evicted.WithLabelValues(stateOpen).Inc()
		closeEarly(c)
	}
}

// evictClosed forgets the oldest remembered chain of first, else of any
// routed partition; false when no chain is remembered.
func (s *Stitcher) evictClosed(first *closedSet) bool {
	cl := first
	if cl.oldest() == nil {
		cl = nil
		for _, p := range s.parts {
			if p.chains.closed.oldest() != nil {
				cl = p.chains.closed
				break
			}
		}
	}
	c := cl.oldest()
	if c == nil {
		return false
	}
	cl.forget(c)
	s.m.evicted.WithLabelValues(stateClosed).Inc()
	return true
}

// trimLocal keeps the local chain state within the budget.
func (s *Stitcher) trimLocal(keep *chain) {
	s.trim(s.chains, keep, func(c *chain) { s.close(c, s.spanIdx, nil) })
}

// trimPart keeps the chain state within the budget, evicting open chains
// of p: closed at once like expired ones (held during a hand-over).
func (s *Stitcher) trimPart(p *part, keep *chain) {
	s.trim(p.chains, keep, func(c *chain) {
		if !p.caughtUp {
			p.held[c.first] = c
			return
		}
		s.closeRoutedIn(p, c, nil)
	})
}
