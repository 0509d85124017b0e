package sample

import (
	"sync/atomic"
	"time"
)

// partState is what the sampler knows about one assigned partition. It is
// only touched with Sampler.mu held, except live.
type partState struct {
	next   int64       // offset after the last record seen; -1 before the first
	pos    int64       // with a ledger: where the next Advance starts (stored position, then each range's end); -1 unknown
	hwm    int64       // high watermark from the last fetch; -1 before the first
	tokens float64     // audit budget left (token bucket)
	filled time.Time   // when tokens was last refilled; zero before the first record
	live   atomic.Bool // false once revoked or rewound: its queued records are not delivered
}

func newPartState() *partState {
	p := new(partState)
	p.init()
	return p
}

func (p *partState) init() {
	p.next, p.pos, p.hwm = -1, -1, -1
	p.live.Store(true)
}

// observe advances the partition past offset and returns how many offsets
// that covers: 1 for the first record after assignment, otherwise the
// distance from the previous record (offsets skipped by compaction or taken
// by transaction markers count as produced). A rewind counts nothing.
func (p *partState) observe(offset int64) int64 {
	n := int64(1)
	if p.next >= 0 {
		n = max(offset+1-p.next, 0)
	}
	p.next = max(p.next, offset+1)
	return n
}

// take reports whether one more record may be audited now. The budget is a
// token bucket of rate tokens per second holding at most one second of
// tokens (and at least one), full when the partition is first seen.
func (p *partState) take(now time.Time, rate float64) bool {
	burst := max(rate, 1)
	if p.filled.IsZero() {
		p.tokens = burst
	} else if d := now.Sub(p.filled); d > 0 {
		p.tokens = min(burst, p.tokens+d.Seconds()*rate)
	}
	p.filled = now
	if p.tokens < 1 {
		return false
	}
	p.tokens--
	return true
}

// lag is how many records the partition holds beyond what was read (or,
// before the first record, beyond where reading starts).
func (p *partState) lag() int64 {
	read := p.next
	if read < 0 {
		read = p.pos
	}
	if p.hwm < 0 || read < 0 {
		return 0
	}
	return max(p.hwm-read, 0)
}

// partitions is the set of partitions assigned to this replica.
type partitions map[string]map[int32]*partState

// assign adds tps to the set, keeping what is already known.
func (ps partitions) assign(tps map[string][]int32) {
	for topic, parts := range tps {
		m := ps[topic]
		if m == nil {
			m = map[int32]*partState{}
			ps[topic] = m
		}
		// one allocation for the topic's new partitions, not one each (the
		// collector marks each object every cycle: 10,000 of them at
		// 10,000 partitions); a block lives while any of its states does
		fresh := 0
		for _, p := range parts {
			if m[p] == nil {
				fresh++
			}
		}
		block := make([]partState, fresh)
		for _, p := range parts {
			if m[p] == nil {
				st := &block[0]
				block = block[1:]
				st.init()
				m[p] = st
			}
		}
	}
}

// remove drops tps from the set and returns the topics left with no
// partition.
func (ps partitions) remove(tps map[string][]int32) []string {
	var gone []string
	for topic, parts := range tps {
		m := ps[topic]
		for _, p := range parts {
			if st := m[p]; st != nil {
				st.live.Store(false)
			}
			delete(m, p)
		}
		if len(m) == 0 && m != nil {
			delete(ps, topic)
			gone = append(gone, topic)
		}
	}
	return gone
}

// get returns the state of an assigned partition, or nil when it is not
// (or no longer) assigned.
func (ps partitions) get(topic string, partition int32) *partState {
	return ps[topic][partition]
}

// list returns the assigned partitions as a new map.
func (ps partitions) list() map[string][]int32 {
	out := make(map[string][]int32, len(ps))
	for topic, m := range ps {
		for p := range m {
			out[topic] = append(out[topic], p)
		}
	}
	return out
}

// count is the number of assigned partitions.
func (ps partitions) count() int {
	n := 0
	for _, m := range ps {
		n += len(m)
	}
	return n
}

// topicLag sums the lag of topic's assigned partitions.
func (ps partitions) topicLag(topic string) int64 {
	var n int64
	for _, p := range ps[topic] {
		n += p.lag()
	}
	return n
}
