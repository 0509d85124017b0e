package audit

import (
	"sync"
	"time"
)

// dupShards spreads the duplicate window over independently locked shards.
const dupShards = 16

// dupWindow remembers recently seen event ids in bounded memory: each shard
// keeps two generations of 64-bit id hashes (current and previous) in
// fixed-size open-addressing tables (16 bytes per id of capacity). A
// generation rotates when it is older than the window or holds its share of
// maxIDs, so an id is remembered for at least one window (unless the id
// rate exceeds maxIDs per window) and at most two.
//
// Error rates: a false positive needs two different ids with the same
// 64-bit hash: about n/2^64 per lookup with n ids remembered (under
// 1e-13 at a million ids). A false negative is a duplicate arriving after
// its id was rotated out: older than two windows always, older than one
// window possibly, or sooner when more than maxIDs ids arrive per window.
type dupWindow struct {
	window time.Duration
	perGen int
	shards [dupShards]dupShard
}

type dupShard struct {
	mu       sync.Mutex
	cur      idSet
	prev     idSet
	curStart time.Time
}

func newDupWindow(window time.Duration, maxIDs int) *dupWindow {
	return &dupWindow{window: window, perGen: max(1, maxIDs/(2*dupShards))}
}

// seen records id (its bytes as written in the event) and reports whether
// it was already remembered.
func (d *dupWindow) seen(id []byte, now time.Time) bool {
	h := fmix64(hashBytes(fnvOffset, id)) | 1
	s := &d.shards[(h>>32)%dupShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.slots == nil {
		s.cur.init(d.perGen)
		s.prev.init(d.perGen)
		s.curStart = now
	}
	age := now.Sub(s.curStart)
	if age < 0 {
		age = -age // record time jumped backwards: treat like a jump forwards
	}
	switch {
	case d.window > 0 && age >= 2*d.window:
		s.prev.reset()
		s.cur.reset()
		s.curStart = now
	case s.cur.n >= d.perGen || (d.window > 0 && age >= d.window):
		s.prev, s.cur = s.cur, s.prev
		s.cur.reset()
		s.curStart = now
	}
	if s.cur.has(h) {
		return true
	}
	s.cur.add(h)
	return s.prev.has(h)
}

// idSet is an open-addressing set of non-zero 64-bit hashes with a fixed
// capacity, kept at most half full.
type idSet struct {
	slots []uint64
	n     int
}

func (s *idSet) init(capacity int) {
	size := 2
	for size < 2*capacity {
		size <<= 1
	}
	s.slots = make([]uint64, size)
}

func (s *idSet) reset() {
	clear(s.slots)
	s.n = 0
}

func (s *idSet) has(h uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

func (s *idSet) add(h uint64) {
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if s.slots[i] == h {
			return
		}
		if s.slots[i] == 0 {
			s.slots[i] = h
			s.n++
			return
		}
	}
}

// fmix64 is MurmurHash3's finalizer: it spreads every input bit over the
// output so table indexes (low bits) and shards (high bits) are uniform.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
