package audit

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// driftTracker learns the data shape of each (type, version) from the first
// events seen and then flags breaking changes: a field present in every
// learning event that is now absent, or a field whose JSON type changed.
// Additive fields are fine (standard 000 §6). Memory is bounded by maxTypes
// shapes of at most maxShapeEntries paths each.
type driftTracker struct {
	learn    int
	maxTypes int
	mu       sync.RWMutex
	shapes   map[uint64]*typeShape
}

// typeShape is the learning state, then the frozen reference, of one
// (type, version).
type typeShape struct {
	mu     sync.Mutex
	seen   int
	stats  map[uint64]*pathStat
	frozen atomic.Pointer[frozenShape]
}

type pathStat struct {
	path    string
	kinds   uint8 // bit per non-null kind seen
	count   int
	inArray bool
}

type frozenShape struct {
	paths    map[uint64]frozenPath
	required []string // index -> path; required paths are never under arrays
	// clean caches fingerprints of entry sequences already judged free of
	// problems (direct-mapped, lock-free): most events of a type repeat
	// one shape, so judging costs one lookup.
	clean [64]atomic.Uint64
}

// fingerprint hashes an entry sequence exactly as the walk folds it into
// scanner.fp.
func fingerprint(entries []shapeEntry) uint64 {
	h := fnvOffset
	for _, e := range entries {
		h = (h ^ e.hash) * fnvPrime
		h = (h ^ uint64(e.kind)) * fnvPrime
	}
	return h
}

// isClean reports whether a shape fingerprint was already judged free of
// problems.
func (f *frozenShape) isClean(fp uint64) bool {
	fp |= 1
	return f.clean[fp%uint64(len(f.clean))].Load() == fp
}

// markClean remembers a fingerprint judged free of problems.
func (f *frozenShape) markClean(fp uint64) {
	fp |= 1
	f.clean[fp%uint64(len(f.clean))].Store(fp)
}

// frozenPath is one learned path of a frozen shape.
type frozenPath struct {
	path  string
	kinds uint8
	req   int // index in required, or -1
}

// driftProblem is one breaking change found on an event.
type driftProblem struct {
	path    string
	removed bool
	was     uint8
	now     byte
}

func newDriftTracker(learn, maxTypes int) *driftTracker {
	return &driftTracker{learn: learn, maxTypes: maxTypes, shapes: make(map[uint64]*typeShape)}
}

func kindBit(k byte) uint8 {
	switch k {
	case kindString:
		return 1
	case kindNumber:
		return 2
	case kindBool:
		return 4
	case kindObject:
		return 8
	case kindArray:
		return 16
	}
	return 0
}

func kindsWords(bits uint8) string {
	var w []string
	for _, k := range []byte{kindString, kindNumber, kindBool, kindObject, kindArray} {
		if bits&kindBit(k) != 0 {
			w = append(w, kindNames[k])
		}
	}
	return strings.Join(w, " or ")
}

// shapeFor returns the tracked shape of key, creating it while under the
// type bound; nil when the bound is reached.
func (d *driftTracker) shapeFor(key uint64) *typeShape {
	d.mu.RLock()
	s := d.shapes[key]
	d.mu.RUnlock()
	if s != nil {
		return s
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s = d.shapes[key]; s == nil && len(d.shapes) < d.maxTypes {
		s = &typeShape{stats: make(map[uint64]*pathStat)}
		d.shapes[key] = s
	}
	return s
}

// learning reports whether events of this shape still feed learning (and
// so need path strings).
func (s *typeShape) learning() bool { return s.frozen.Load() == nil }

// learnFrom adds one event's entries (with paths) to the learning state and
// freezes the reference after learn events.
func (s *typeShape) learnFrom(entries []shapeEntry, paths []string, learn int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen.Load() != nil {
		return
	}
	s.seen++
	counted := make(map[uint64]bool, len(entries))
	for i, e := range entries {
		st := s.stats[e.hash]
		if st == nil {
			st = &pathStat{path: paths[i], inArray: e.inArray}
			s.stats[e.hash] = st
		}
		st.kinds |= kindBit(e.kind)
		if !counted[e.hash] {
			counted[e.hash] = true
			st.count++
		}
	}
	if s.seen >= learn {
		s.frozen.Store(s.freeze())
	}
}

func (s *typeShape) freeze() *frozenShape {
	f := &frozenShape{paths: make(map[uint64]frozenPath, len(s.stats))}
	hashes := make([]uint64, 0, len(s.stats))
	for h := range s.stats {
		hashes = append(hashes, h)
	}
	sort.Slice(hashes, func(i, j int) bool { return s.stats[hashes[i]].path < s.stats[hashes[j]].path })
	for _, h := range hashes {
		st := s.stats[h]
		fp := frozenPath{path: st.path, kinds: st.kinds, req: -1}
		if st.count == s.seen && !st.inArray {
			fp.req = len(f.required)
			f.required = append(f.required, st.path)
		}
		f.paths[h] = fp
	}
	s.stats = nil
	return f
}

// judge compares one event's entries with the frozen reference.
func (f *frozenShape) judge(entries []shapeEntry) []driftProblem {
	var present [maxShapeEntries / 64]uint64
	var out []driftProblem
	for _, e := range entries {
		fp, ok := f.paths[e.hash]
		if !ok {
			continue
		}
		if fp.req >= 0 {
			present[fp.req/64] |= 1 << (fp.req % 64)
		}
		if b := kindBit(e.kind); b != 0 && fp.kinds != 0 && fp.kinds&b == 0 {
			out = append(out, driftProblem{path: fp.path, was: fp.kinds, now: e.kind})
		}
	}
	var missing string
	for i, p := range f.required {
		if present[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		if missing != "" && strings.HasPrefix(p, missing+".") {
			continue
		}
		missing = p
		out = append(out, driftProblem{path: p, removed: true})
	}
	return out
}
