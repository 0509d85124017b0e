package lag

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// SeenTimes keeps the timestamps of the records eventwatch's own sampler
// read last on each partition, so that exact time lag needs no Fetch for a
// group a few records behind: its committed offset points at a record the
// sampler has just read. The sampler hands it every fetched record
// (NoteRecords, before any budget or audit), the lag collector asks it
// before it looks records up (WithSampledTimes). Only the replica that
// runs the collector (the leader) helps itself this way, for the
// partitions its own sampler reads; every other committed offset is
// fetched as before.
//
// It answers "the timestamp of the first record at or after offset" — the
// lookup's question — only where it knows: the offset was read, or it lies
// in a gap between two records read in one contiguous run (the gap holds
// control records or compacted-away offsets, so the next record read is
// the first at or after it). Per partition it keeps the last
// seenPerPartition records, and at most seenPartitions partitions; memory
// is bounded and the hot path is one lock per partition and poll. Safe for
// concurrent use.
type SeenTimes struct {
	mu    sync.Mutex
	parts map[tpKey]*seenRing
}

// Bounds of SeenTimes.
const (
	seenPerPartition = 16     // records remembered per partition (the last read)
	seenPartitions   = 200000 // partitions remembered; beyond, new ones are not
)

// seenRing is one partition's last records read, oldest first, as a ring.
type seenRing struct {
	offs  [seenPerPartition]int64
	ms    [seenPerPartition]int64
	contd [seenPerPartition]bool // the record follows the previous one in a contiguous read
	start int                    // index of the oldest record
	n     int                    // records held
}

// NewSeenTimes returns an empty store.
func NewSeenTimes() *SeenTimes { return &SeenTimes{parts: map[tpKey]*seenRing{}} }

// NoteRecords remembers the records of one fetch of a partition (in
// offset order, as the client returns them). A fetch that starts at or
// below what was read before (a rewind, a re-read) starts the partition
// over; one that starts after a gap does not join the run before it.
func (s *SeenTimes) NoteRecords(topic string, partition int32, recs []*kgo.Record) {
	if s == nil || len(recs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tpKey{topic, partition}
	r := s.parts[k]
	if r == nil {
		if len(s.parts) >= seenPartitions {
			return
		}
		r = &seenRing{}
		s.parts[k] = r
	}
	for i, rec := range recs {
		last, ok := r.last()
		switch {
		case ok && rec.Offset <= last:
			*r = seenRing{} // read again from an earlier offset
			r.push(rec.Offset, rec.Timestamp.UnixMilli(), false)
		default:
			// within one fetch every record follows the previous one (what
			// lies between is not data); across fetches only when adjacent
			r.push(rec.Offset, rec.Timestamp.UnixMilli(), ok && (i > 0 || rec.Offset == last+1))
		}
	}
}

// last returns the newest offset held.
func (r *seenRing) last() (int64, bool) {
	if r.n == 0 {
		return 0, false
	}
	return r.offs[(r.start+r.n-1)%seenPerPartition], true
}

// push appends a record, dropping the oldest when the ring is full; the
// oldest record held never counts as following anything.
func (r *seenRing) push(off, ms int64, contd bool) {
	i := (r.start + r.n) % seenPerPartition
	if r.n == seenPerPartition {
		r.start = (r.start + 1) % seenPerPartition
	} else {
		r.n++
	}
	r.offs[i], r.ms[i], r.contd[i] = off, ms, contd
	r.contd[r.start] = false
}

// stamp returns the timestamp (unix milliseconds) of the first record at
// or after off on the partition, when the records read tell it.
func (s *SeenTimes) stamp(topic string, partition int32, off int64) (int64, bool) {
	if s == nil {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.parts[tpKey{topic, partition}]
	if r == nil {
		return 0, false
	}
	for j := range r.n {
		i := (r.start + j) % seenPerPartition
		switch {
		case r.offs[i] == off:
			return r.ms[i], true
		case r.offs[i] > off:
			// after a gap: known only when the previous record read was
			// below off in the same contiguous run
			return r.ms[i], j > 0 && r.contd[i]
		}
	}
	return 0, false
}

// WithSampledTimes lets the collector take the timestamps of committed
// offsets that this replica's sampler has just read from seen instead of
// fetching them (see SeenTimes).
func WithSampledTimes(seen *SeenTimes) Option { return func(c *Collector) { c.seen = seen } }

// tpKey names a partition.
type tpKey struct {
	topic string
	p     int32
}
