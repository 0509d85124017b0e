package audit

import (
	"sync"
	"time"
)

// dupShards spreads the duplicate window over independently locked shards.
const dupShards = 16

// dupWindow remembers recently seen event ids in bounded memory: each shard
// keeps two generations of 64-bit id hashes (current and previous). A
// generation rotates when it is older than the window or holds its share of
// maxIDs, so an id is remembered for at least one window (unless the id
// rate exceeds maxIDs per window) and at most two.
//
// Error rates: a false positive needs two different ids with the same
// 64-bit FNV-1a hash: about n/2^64 per lookup with n ids remembered (under
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
	cur      map[uint64]struct{}
	prev     map[uint64]struct{}
	curStart time.Time
}

func newDupWindow(window time.Duration, maxIDs int) *dupWindow {
	per := max(1, maxIDs/(2*dupShards))
	d := &dupWindow{window: window, perGen: per}
	for i := range d.shards {
		d.shards[i].cur = make(map[uint64]struct{})
		d.shards[i].prev = make(map[uint64]struct{})
	}
	return d
}

// seen records id and reports whether it was already remembered.
func (d *dupWindow) seen(id string, now time.Time) bool {
	h := hashString(fnvOffset, id)
	s := &d.shards[h%dupShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.curStart.IsZero() {
		s.curStart = now
	}
	if len(s.cur) >= d.perGen || (d.window > 0 && now.Sub(s.curStart) >= d.window) {
		s.prev, s.cur = s.cur, make(map[uint64]struct{}, len(s.cur))
		s.curStart = now
	}
	if _, ok := s.cur[h]; ok {
		return true
	}
	_, ok := s.prev[h]
	s.cur[h] = struct{}{}
	return ok
}
