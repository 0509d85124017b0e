package ledger

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// releaseTimeout bounds the flush made when partitions are revoked.
const releaseTimeout = 5 * time.Second

// Accounts is what the sampler drives (sample.WithLedger): it resumes every
// assigned partition from the stored position, tells the ledger each range
// whose records it delivered (Advance), never drops a record it chose to
// audit (a full queue waits), pauses fetching while the ledger is
// Saturated, and commits to Kafka only positions already stored. *Ledger
// implements it.
type Accounts interface {
	// Positions returns the stored position (next offset to count) of every
	// partition of the sampler's group.
	Positions(ctx context.Context) (map[string]map[int32]int64, error)
	// Acquire starts accounting for a partition read from offset from (-1:
	// from the first record read).
	Acquire(topic string, partition int32, from int64)
	// Advance says every record of the partition in [from, to) has been
	// given to the sinks or deliberately not audited.
	Advance(topic string, partition int32, from, to int64)
	// Release stores what it can of the partitions and forgets them.
	Release(ctx context.Context, tps map[string][]int32)
	// Saturated reports whether the ledger's buffer is full.
	Saturated() bool
	// Started reports whether the group has started watching the estate,
	// and where start_from placed each partition watched then.
	Started(ctx context.Context) (bool, map[string]map[int32]int64, error)
	// Start stores the group's first start (where start_from places every
	// watched partition, history skipped); false when another replica
	// came first.
	Start(ctx context.Context, ps []store.Position, skipped []store.PositionNote) (bool, error)
	// Init stores the positions of partitions seen for the first time.
	Init(ctx context.Context, ps []store.Position) error
	// Reset moves a stored position that does not match the log and
	// records why; false when it was not at n.From.
	Reset(ctx context.Context, n store.PositionNote) (bool, error)
}

// Listener hears what the store holds. The sampler implements it: it
// commits stored positions to Kafka (so its group's lag shows how far the
// report is behind) and reads a partition again from where the store says
// its records are counted.
type Listener interface {
	// Stored is called after every successful flush with the positions it
	// moved.
	Stored(positions []store.Position)
	// Rewind is called when the store holds another position for a
	// partition than the ledger expected (another replica or an earlier
	// attempt counted part of it): what the ledger held for the partition
	// was discarded and its records must be read again from offset.
	Rewind(topic string, partition int32, offset int64)
}

// WithListener tells pl about stored positions and rewinds.
func WithListener(pl Listener) Option {
	return func(l *Ledger) { l.listener = pl }
}

// WithGroup names the sampler consumer group whose positions the ledger
// stores (default "eventwatch").
func WithGroup(group string) Option {
	return func(l *Ledger) { l.group = group }
}

// SetListener sets the listener after construction (the sampler is built
// after the ledger it feeds). Call it before Run.
func (l *Ledger) SetListener(pl Listener) { l.listener = pl }

type tp struct {
	topic     string
	partition int32
}

// segment is a contiguous range of one partition, [from, to), with the
// aggregates of its records. A frozen segment was part of a failed flush:
// its range is kept apart, because the store may hold it already (a commit
// whose acknowledgement was lost) and the fence must be able to tell.
type segment struct {
	from, to int64
	buf      *buffer
	frozen   bool
}

// partLedger is what the ledger holds for one partition the sampler
// reads: records observed since its last Advance (open) and closed
// segments not yet stored.
type partLedger struct {
	next     int64    // the position after the last closed segment; -1 when unknown yet
	open     buffer   // held in place, not behind a pointer: one object per partition, not two (10,000 at estate size, most idle)
	span     openSpan // the offsets of the records in open
	segs     []*segment
	released bool // revoked: further observations are ignored until Acquire
}

// openSpan is what the ledger knows of the offsets of the records observed
// since a partition's last Advance: how many, the lowest and highest, and
// whether one came at or below an offset already observed. The sampler
// delivers a partition's records in increasing offset order, each range's
// records before its Advance (doc.go, "Protocol"), so the next Advance's
// range [from, to) holds all of them; anything else is a protocol breach
// the ledger refuses to count (Advance).
type openSpan struct {
	n        int64
	lo, hi   int64
	disorder bool
}

// note takes the offset of one more observed record into the span.
func (s *openSpan) note(offset int64) {
	switch {
	case s.n == 0:
		s.lo, s.hi = offset, offset
	case offset <= s.hi:
		s.disorder = true
		s.lo = min(s.lo, offset)
	default:
		s.hi = offset
	}
	s.n++
}

// within reports whether every record of the span lies in [from, to), in
// increasing offset order.
func (s *openSpan) within(from, to int64) bool {
	return s.n == 0 || (!s.disorder && s.lo >= from && s.hi < to)
}

func (p *partLedger) rows() int {
	n := p.open.size()
	for _, s := range p.segs {
		n += s.buf.size()
	}
	return n
}

// Positions returns the stored position of every partition of the
// ledger's group.
func (l *Ledger) Positions(ctx context.Context) (map[string]map[int32]int64, error) {
	ps, err := l.store.Positions(ctx, l.group)
	if err != nil {
		return nil, fmt.Errorf("read stored positions: %w", err)
	}
	return byPartition(ps), nil
}

// byPartition indexes positions by topic and partition.
func byPartition(ps []store.Position) map[string]map[int32]int64 {
	out := map[string]map[int32]int64{}
	for _, p := range ps {
		if out[p.Topic] == nil {
			out[p.Topic] = map[int32]int64{}
		}
		out[p.Topic][p.Partition] = p.Offset
	}
	return out
}

// Acquire starts accounting for a partition read from offset from (-1 when
// the sampler does not know it yet: the first Advance sets it). Anything
// held for the partition before is discarded.
func (l *Ledger) Acquire(topic string, partition int32, from int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.parts[tp{topic, partition}]; old != nil {
		l.rows -= old.rows()
	}
	l.parts[tp{topic, partition}] = &partLedger{next: from}
}

// Advance closes the records observed for a partition since the previous
// Advance as the range [from, to): every record in it was observed or
// deliberately not audited. An Advance that does not continue where the
// partition stands (records from before a rewind) discards them; one whose
// records are not all inside [from, to) is refused (refuseRange).
func (l *Ledger) Advance(topic string, partition int32, from, to int64) {
	if at, refused := l.advance(topic, partition, from, to); refused && l.listener != nil {
		l.listener.Rewind(topic, partition, at)
	}
}

// advance is Advance with l.mu held; it returns where the partition must
// be read again from when the range was refused.
func (l *Ledger) advance(topic string, partition int32, from, to int64) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.parts[tp{topic, partition}]
	if p == nil || p.released {
		return 0, false
	}
	if p.next >= 0 && from != p.next {
		l.rows -= p.open.size()
		p.open, p.span = buffer{}, openSpan{}
		return 0, false
	}
	if !p.span.within(from, to) {
		return l.refuseRange(topic, partition, p, from, to), true
	}
	var seg *segment
	if n := len(p.segs); n > 0 && !p.segs[n-1].frozen {
		seg = p.segs[n-1]
	} else {
		seg = &segment{from: from, buf: newBuffer()}
		p.segs = append(p.segs, seg)
		l.closed[tp{topic, partition}] = p
	}
	before := seg.buf.size() + p.open.size()
	p.open.mergeInto(seg.buf, l.cfg.MaxExamples, math.MaxInt)
	p.open, p.span = buffer{}, openSpan{}
	seg.to, p.next = to, to
	l.rows += seg.buf.size() - before
	return 0, false
}

// refuseRange handles an Advance whose range does not hold exactly the
// records observed since the previous one (records from before from, at or
// beyond to, or out of order: the sampler broke the protocol, or an audit
// still running when a revoke or rewind gave up waiting for it delivered a
// record of the old read). Closing the range would count records twice or
// claim records whose counts are not in it, so nothing held for the
// partition is kept: it is read again from where its held records start —
// its first unstored range, else its position, else (position unknown)
// the lowest offset observed or the range's start — and the store's fence
// reconciles that with the stored position. l.mu held; it returns that
// offset, for the sampler to hear once l.mu is released.
func (l *Ledger) refuseRange(topic string, partition int32, p *partLedger, from, to int64) int64 {
	at := p.next
	switch {
	case len(p.segs) > 0:
		at = p.segs[0].from
	case at < 0:
		at = min(p.span.lo, from)
	}
	l.log.Error("ledger protocol breach: the records observed for a partition are not those of the range the sampler closed; discarding what is held for it and reading it again (nothing counted twice)",
		"topic", topic, "partition", partition, "range_from", from, "range_to", to,
		"observed", p.span.n, "observed_lowest", p.span.lo, "observed_highest", p.span.hi,
		"out_of_order", p.span.disorder, "read_again_from", at)
	l.m.refused.Inc()
	l.rows -= p.rows()
	p.open, p.span, p.segs, p.next = buffer{}, openSpan{}, nil, at
	return at
}

// releasedPart marks every released partition: further observations and
// ranges of it are ignored until Acquire replaces it. Every path that
// changes a partLedger checks released first, so the one marker is never
// written; a marker per partition was two allocations for each of the
// thousands of partitions a rebalance moves away.
var releasedPart = &partLedger{released: true, next: -1}

// Release flushes what is closed (within a few seconds) and stops
// accounting for the partitions: the sampler lost them. What could not be
// stored is discarded; the next owner reads it again from the stored
// position.
func (l *Ledger) Release(ctx context.Context, tps map[string][]int32) {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	fctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	err := l.flushLocked(fctx, false)
	cancel()
	if err != nil {
		l.log.Warn("flush on revoke failed; the next owner reads the revoked partitions again from the stored position", "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for topic, parts := range tps {
		for _, part := range parts {
			if p := l.parts[tp{topic, part}]; p != nil {
				l.rows -= p.rows()
				l.parts[tp{topic, part}] = releasedPart
			}
		}
	}
}

// Saturated reports whether the buffered aggregates reached
// store.buffer_limit: the sampler then pauses fetching until a flush
// succeeds, rather than the ledger dropping anything.
func (l *Ledger) Saturated() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rows >= l.cfg.BufferLimit
}

// taken is what one flush writes: the unpositioned buffer (cluster
// samples, records of partitions nobody acquired) and the closed segments
// of each partition.
type taken struct {
	global *buffer
	parts  map[tp][]*segment
}

// take moves everything flushable out of the ledger; l.mu held. It walks
// only the partitions that closed a segment since the last take (at
// estate size the sampler holds tens of thousands of partitions, few of
// which moved in one flush interval) and takes their rows off l.rows.
func (l *Ledger) take() *taken {
	t := &taken{global: l.pending, parts: make(map[tp][]*segment, len(l.closed))}
	l.rows -= l.pending.size()
	l.pending = newBuffer()
	for k, p := range l.closed {
		if l.parts[k] != p || len(p.segs) == 0 || p.released {
			continue // acquired again, reset or released since: its segments went with it
		}
		for _, s := range p.segs {
			l.rows -= s.buf.size()
		}
		t.parts[k] = p.segs
		p.segs = nil
	}
	clear(l.closed)
	return t
}

// batch merges t into one store batch with an Advance per partition, and
// returns the merged buffer it was built from.
func (t *taken) batch(group string, maxEx int) (*store.Batch, *buffer) {
	all := newBuffer()
	t.global.mergeInto(all, maxEx, math.MaxInt)
	var adv []store.Advance
	for k, segs := range t.parts {
		for _, s := range segs {
			s.buf.mergeInto(all, maxEx, math.MaxInt)
		}
		adv = append(adv, store.Advance{Group: group, Topic: k.topic, Partition: k.partition,
			From: segs[0].from, To: segs[len(segs)-1].to})
	}
	b := all.batch()
	b.Advances = adv
	return b, all
}

// resolve drops from t what the store already holds according to c, and
// for every partition whose stored position is not a segment boundary
// discards everything held for it and asks the sampler to read it again
// from the stored position.
func (l *Ledger) resolve(t *taken, c *store.ConflictError) {
	for _, pos := range c.Actual {
		k := tp{pos.Topic, pos.Partition}
		segs := t.parts[k]
		cut := -1
		for i, s := range segs {
			if s.to == pos.Offset {
				cut = i
			}
		}
		if cut >= 0 && pos.Offset >= 0 {
			if t.parts[k] = segs[cut+1:]; len(t.parts[k]) == 0 {
				delete(t.parts, k)
			}
			continue
		}
		delete(t.parts, k)
		l.m.conflicts.Inc()
		if l.resetPartition(k, pos.Offset) && l.listener != nil && pos.Offset >= 0 {
			l.listener.Rewind(k.topic, k.partition, pos.Offset)
		}
		l.log.Warn("stored position moved under this replica; reading the partition again from it",
			"topic", k.topic, "partition", k.partition, "stored_offset", pos.Offset)
	}
}

// resetPartition discards what is held for k and sets its position to
// offset; false when k is not accounted for (any more).
func (l *Ledger) resetPartition(k tp, offset int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.parts[k]
	if p == nil || p.released {
		return false
	}
	l.rows -= p.rows()
	p.open, p.span, p.segs, p.next = buffer{}, openSpan{}, nil, offset
	return true
}

// restoreTaken puts a failed flush back in front of what arrived since:
// the segments frozen (so a retry can tell them apart), the unpositioned
// rows up to the buffer limit.
func (l *Ledger) restoreTaken(t *taken) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	dropped := t.global.mergeInto(l.pending, l.cfg.MaxExamples, l.cfg.BufferLimit)
	for k, segs := range t.parts {
		p := l.parts[k]
		if p == nil || p.released {
			continue // revoked meanwhile: the next owner reads it again
		}
		for _, s := range segs {
			s.frozen = true
		}
		p.segs = append(segs, p.segs...)
		l.closed[k] = p
	}
	l.rows = l.recount()
	return dropped
}

// recount counts the buffered rows afresh; l.mu held. A failed flush
// (restoreTaken, rare) sets l.rows from it; the tests check that the
// count kept as rows change agrees with it.
func (l *Ledger) recount() int {
	n := l.pending.size()
	for _, p := range l.parts {
		n += p.rows()
	}
	return n
}

// positions lists the positions b moved.
func positions(b *store.Batch) []store.Position {
	out := make([]store.Position, 0, len(b.Advances))
	for _, adv := range b.Advances {
		out = append(out, store.Position{Group: adv.Group, Topic: adv.Topic, Partition: adv.Partition, Offset: adv.To})
	}
	return out
}

// Started reports whether the ledger's group has started watching the
// estate (its first start is stored), and where start_from placed each
// partition watched at that start.
func (l *Ledger) Started(ctx context.Context) (bool, map[string]map[int32]int64, error) {
	w, err := l.store.Watching(ctx, l.group)
	if err != nil {
		return false, nil, fmt.Errorf("read watch start: %w", err)
	}
	return !w.At.IsZero(), byPartition(w.Positions), nil
}

// Start stores the group's first start: where start_from places every
// watched partition (each partition's position is stored when it is first
// assigned, Init) and the history skipped, in one transaction. False when
// another replica stored the first start already (nothing of this call is
// stored; Started then says what it stored).
func (l *Ledger) Start(ctx context.Context, ps []store.Position, skipped []store.PositionNote) (bool, error) {
	for i := range ps {
		ps[i].Group = l.group
	}
	for i := range skipped {
		skipped[i].Group = l.group
	}
	first, err := l.store.StartWatch(ctx, l.group, l.now(), ps, skipped)
	if err != nil {
		return false, fmt.Errorf("store first start: %w", err)
	}
	return first, nil
}

// Init stores the position of partitions seen for the first time (empty
// ones included), so a restart resumes where eventwatch started watching
// them; partitions with a stored position keep it.
func (l *Ledger) Init(ctx context.Context, ps []store.Position) error {
	for i := range ps {
		ps[i].Group = l.group
	}
	if err := l.store.InitPositions(ctx, ps); err != nil {
		return fmt.Errorf("store first positions: %w", err)
	}
	return nil
}

// Reset moves a stored position that does not match the log from n.From to
// n.To and records n (the report's notes), after flushing what the ledger
// holds (so the stored position is where the sampler read up to). False
// when the stored position was not n.From.
func (l *Ledger) Reset(ctx context.Context, n store.PositionNote) (bool, error) {
	fctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	if err := l.Flush(fctx); err != nil {
		l.log.Warn("flush before a position reset failed", "err", err)
	}
	n.Group = l.group
	if n.At.IsZero() {
		n.At = l.now()
	}
	moved, err := l.store.ResetPosition(fctx, n)
	if err != nil {
		return false, fmt.Errorf("reset position of %s/%d: %w", n.Topic, n.Partition, err)
	}
	return moved, nil
}
