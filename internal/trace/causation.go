package trace

// Causation is what one closed chain says about cause and effect, for
// consumers outside this package (the idempotency check of
// internal/readers): every event with the index of its upstream, and how
// many extra copies of each event id the chain received at another record
// position (producer duplicates, which stitching ignores). It carries
// references and envelope ids only, never a payload.
type Causation struct {
	Events []EventRef // in chain order; EventRef.Upstream indexes this slice (-1: a root)
	// Redelivered counts, per event id, the copies beyond the first that
	// reached the chain from another (topic, partition, offset).
	Redelivered map[string]int
}

// OnCausation registers fn to be called, on the stitching goroutine, with
// the causation of every chain this stitcher closes and analyses. fn must
// not block; nil turns it off. Call it before Run.
func (s *Stitcher) OnCausation(fn func(Causation)) { s.causation = fn }

// emitCausation hands a closed chain's causation to the registered
// function, if any.
func (s *Stitcher) emitCausation(c *chain, a analysis) {
	if s.causation == nil {
		return
	}
	out := Causation{Events: make([]EventRef, len(a.Events))}
	for i, e := range a.Events {
		out.Events[i] = eventRef(e)
		out.Events[i].Upstream, out.Events[i].Causation = a.Up[i], a.How[i]
	}
	if len(c.redelivered) > 0 {
		out.Redelivered = make(map[string]int, len(c.redelivered))
		for id, n := range c.redelivered {
			out.Redelivered[id] = n
		}
	}
	s.causation(out)
}

// maxRedelivered bounds the distinct redelivered ids a chain remembers.
const maxRedelivered = 256

// countRedelivery remembers that e repeats an event id the chain holds,
// when it comes from another record position (a producer duplicate; the
// same record read again is not one).
func (c *chain) countRedelivery(e *seenEvent) {
	for _, o := range c.events {
		if o.EventID != e.EventID {
			continue
		}
		if o.Topic == e.Topic && o.Partition == e.Partition && o.Offset == e.Offset {
			return
		}
		break
	}
	if c.redelivered == nil {
		c.redelivered = map[string]int{}
	}
	if _, ok := c.redelivered[e.EventID]; ok || len(c.redelivered) < maxRedelivered {
		c.redelivered[e.EventID]++
	}
}
