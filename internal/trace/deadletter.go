package trace

// Dead-letter copies. A consumer that fails on a record may publish a copy
// of it to a dead-letter topic: wrapped with the error (AuthorWorks), or as
// is with the error in headers (Spring Kafka's DeadLetterPublishingRecoverer,
// Kafka Connect's dead-letter queue). The audit engine reads the copy's
// identity from the original (event.Result.DeadLetter), so it carries the
// original's event id, type, correlation id and often its trace context —
// but it is not an event of the flow: nobody processed the original into
// it. So it is no hop and no cause or root of anything, not a producer
// duplicate of the original (no "duplicate" drop, no redelivery for the
// idempotency check: a consumer that dead-letters a record did not receive
// it twice), and it leaves the chain as it was. While the original's chain
// is open the copy is noted on it (the copied event shows `dead_letter` in
// /api/v1/flows); every copy is counted (eventwatch_trace_dead_letters_total,
// `dead_letters` on /api/v1/flows).

// Bounds of a chain's dead-letter notes.
const (
	maxDeadLetters  = 16  // copies noted per chain; more are counted only
	deadLetterBytes = 112 // estimated heap bytes of one note, strings apart
)

// RecordPos names a record by topic, partition and offset.
type RecordPos struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// deadLetter is a dead-letter copy noted on its original's chain.
type deadLetter struct {
	id string    // the original's event id
	at RecordPos // where the copy is
}

// noteDeadLetter notes dead-letter copy e on the open chain of its
// original, when there is one and it has room; it never opens, reopens or
// extends a chain.
func (cs *chains) noteDeadLetter(e *seenEvent) {
	if e.EventID == "" || (e.Correlation == "" && !e.Ctx.Real()) {
		return
	}
	c := cs.find(e)
	if c == nil || len(c.deadLetters) >= maxDeadLetters {
		return
	}
	for _, d := range c.deadLetters {
		if d.id == e.EventID && d.at.Topic == e.Topic && d.at.Partition == e.Partition && d.at.Offset == e.Offset {
			return // the same copy read again
		}
	}
	c.deadLetters = append(c.deadLetters, deadLetter{id: e.EventID, at: RecordPos{Topic: e.Topic, Partition: e.Partition, Offset: e.Offset}})
	cs.grow(c, deadLetterBytes+int64(len(e.EventID)+len(e.Topic)))
}

// deadLetterOf returns where the first dead-letter copy of event id noted
// on the chain is; nil when none.
func (c *chain) deadLetterOf(id string) *RecordPos {
	for i := range c.deadLetters {
		if c.deadLetters[i].id == id && id != "" {
			pos := c.deadLetters[i].at
			return &pos
		}
	}
	return nil
}

// movedDeadLetters are c's dead-letter notes as events to send where c
// moves: each with its original's ids and context (so that it finds the
// chain there) at the copy's position, marked counted.
func (c *chain) movedDeadLetters() []*seenEvent {
	var out []*seenEvent
	for _, d := range c.deadLetters {
		for _, e := range c.events {
			if e.EventID == d.id {
				out = append(out, &seenEvent{Topic: d.at.Topic, Partition: d.at.Partition, Offset: d.at.Offset, EventID: d.id,
					EventType: e.EventType, Service: e.Service, Correlation: e.Correlation, Ctx: e.Ctx, DeadLetter: true,
					exported: true, msg: -1})
				break
			}
		}
	}
	return out
}

// deadLettersSize is the estimated heap bytes of c's dead-letter notes.
func (c *chain) deadLettersSize() int64 {
	var n int64
	for _, d := range c.deadLetters {
		n += deadLetterBytes + int64(len(d.id)+len(d.at.Topic))
	}
	return n
}

// countDeadLetter counts one dead-letter copy.
func (s *Stitcher) countDeadLetter() {
	s.m.deadLetters.WithLabelValues().Inc()
	s.flows.deadLetter()
}

// deadLetter counts a dead-letter copy in the document.
func (f *flows) deadLetter() {
	f.mu.Lock()
	f.doc.DeadLetters++
	f.mu.Unlock()
}
