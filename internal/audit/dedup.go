package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"sync"
	"time"
)

// dupShards spreads the duplicate window over independently locked shards.
const dupShards = 16

// dupWindow remembers recently seen event ids in bounded memory: each shard
// keeps two generations of 64-bit id hashes (current and previous) in
// fixed-size open-addressing tables (20 bytes per id of capacity),
// interleaved so a lookup in both touches one cache line. A
// generation rotates when it is older than the window or holds its share of
// maxIDs, so an id is remembered for at least one window (unless the id
// rate exceeds maxIDs per window) and at most two.
//
// Each id is remembered with where it was read (a hash of topic, partition
// and offset), so reading the same record again (after a rebalance, a broker
// fault or a rewind to the stored position) is not a duplicate; the same id
// at another offset is. Records without a location (bare events of
// `eventwatch check`) are duplicates whenever their id repeats.
//
// Each id is also remembered with its record time (whole seconds): copies
// further apart than the window are never duplicates, as in the report
// store the ledger keeps ids in (so the two agree).
//
// Error rates: a false positive needs two different ids with the same
// 64-bit hash: about n/2^64 per lookup with n ids remembered (under
// 1e-13 at a million ids). A false negative is a duplicate arriving after
// its id was rotated out: older than one window possibly, or sooner when
// more than maxIDs ids arrive per window (the daemon's ledger finds those
// in the store).
type dupWindow struct {
	window time.Duration
	perGen int
	shards [dupShards]dupShard
}

type dupShard struct {
	mu       sync.Mutex
	gens     genPair
	curStart time.Time
}

func newDupWindow(window time.Duration, maxIDs int) *dupWindow {
	return &dupWindow{window: window, perGen: max(1, maxIDs/(2*dupShards))}
}

// seen records id (its bytes as written in the event) read at loc (0 when
// unknown) and reports whether it was already remembered from another
// location.
func (d *dupWindow) seen(id []byte, loc uint64, now time.Time) bool {
	h := fmix64(hashBytes(fnvOffset, id)) | 1
	s := &d.shards[(h>>32)%dupShards]
	s.mu.Lock()
	dup := s.seenLocked(d, h, loc, now)
	s.mu.Unlock()
	return dup
}

// recordLoc hashes where a record was read; 0 when it has no topic.
func recordLoc(rec *event.Record) uint64 {
	if rec.Topic == "" {
		return 0
	}
	h := hashBytes(fnvOffset, []byte(rec.Topic))
	h = fmix64(h ^ uint64(uint32(rec.Partition)))
	return fmix64(h^uint64(rec.Offset)) | 1
}

func (s *dupShard) seenLocked(d *dupWindow, h, loc uint64, now time.Time) bool {
	g := &s.gens
	if g.slots == nil {
		g.init(d.perGen)
		s.curStart = now
	}
	age := now.Sub(s.curStart)
	if age < 0 {
		age = -age // record time jumped backwards: treat like a jump forwards
	}
	switch {
	case d.window > 0 && age >= 2*d.window:
		g.reset(0)
		g.reset(1)
		s.curStart = now
	case g.n[g.cur] >= d.perGen || (d.window > 0 && age >= d.window):
		g.cur ^= 1
		g.reset(g.cur)
		s.curStart = now
	}
	return g.seen(h, loc, unixSeconds(now), d.windowSeconds())
}

// windowSeconds is the window in whole seconds (at least 1; 0 for no
// window).
func (d *dupWindow) windowSeconds() uint32 {
	if d.window <= 0 {
		return 0
	}
	return uint32(min(max(d.window/time.Second, 1), 1<<31))
}

// unixSeconds is t in Unix seconds, clamped to uint32.
func unixSeconds(t time.Time) uint32 {
	return uint32(min(max(t.Unix(), 0), 1<<32-1))
}

// within reports whether two record times are at most window seconds
// apart (always when window is 0).
func within(a, b, window uint32) bool {
	if window == 0 {
		return true
	}
	if a > b {
		a, b = b, a
	}
	return b-a <= window
}

// genPair is two generations (current and previous) of an open-addressing
// set of non-zero 64-bit hashes, each with a fixed capacity and kept at
// most half full. The generations are interleaved (slot i of both sits in
// one 16-byte pair) and probed with the same sequence, so one lookup in
// both costs one cache miss. locs and times hold, at the same index, where
// and when (record time) each hash was first read.
type genPair struct {
	slots []uint64 // slots[2*i+g] is slot i of generation g
	locs  []uint64 // locs[2*i+g] is the record location of slots[2*i+g]
	times []uint32 // times[2*i+g] is its record time, Unix seconds
	n     [2]int
	cur   int // the current generation, 0 or 1
}

func (p *genPair) init(capacity int) {
	size := 2
	for size < 2*capacity {
		size <<= 1
	}
	p.slots = make([]uint64, 2*size)
	p.locs = make([]uint64, 2*size)
	p.times = make([]uint32, 2*size)
}

// reset empties generation g.
func (p *genPair) reset(g int) {
	for i := g; i < len(p.slots); i += 2 {
		p.slots[i] = 0
	}
	p.n[g] = 0
}

// seen reports whether h is in either generation from a location other
// than loc and within window seconds of record time t, and adds it to the
// current one when it is not already there. A remembered sighting further
// than the window from t is no duplicate; in the current generation it is
// replaced by this one (the copy owns the id again, as in the store).
func (p *genPair) seen(h, loc uint64, t, window uint32) bool {
	mask := uint64(len(p.slots)/2 - 1)
	cur, prev := uint64(p.cur), uint64(p.cur^1)
	added, dup, prevDone := false, false, false
	for i := h & mask; ; i = (i + 1) & mask {
		pair := p.slots[2*i : 2*i+2 : 2*i+2]
		if !added {
			j := 2*i + cur
			switch pair[cur] {
			case h:
				if !within(p.times[j], t, window) {
					p.locs[j], p.times[j] = loc, t
					return false
				}
				return otherLoc(p.locs[j], loc)
			case 0:
				pair[cur] = h
				p.locs[j], p.times[j] = loc, t
				p.n[cur]++
				added = true
			}
		}
		if !prevDone {
			j := 2*i + prev
			switch pair[prev] {
			case h:
				dup, prevDone = otherLoc(p.locs[j], loc) && within(p.times[j], t, window), true
			case 0:
				prevDone = true
			}
		}
		if added && prevDone {
			return dup
		}
	}
}

// otherLoc reports whether a remembered id was read somewhere else than
// loc: always when either location is unknown.
func otherLoc(was, loc uint64) bool { return was == 0 || loc == 0 || was != loc }

// remembered is the number of hashes in both generations.
func (p *genPair) remembered() int { return p.n[0] + p.n[1] }

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
