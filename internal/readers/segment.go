package readers

import "math"

// maxSegments is how many offset ranges one (partition, type, version)
// keeps; when a new one opens beyond it, the two oldest merge. So the
// recent past is precise and the old one coarse, in constant memory.
const maxSegments = 3

// slotSeconds is how long a segment keeps growing: an occurrence more than
// this after the segment's last one opens a new segment.
const slotSeconds = 60

// segment is a range of offsets of one partition where a type and version
// occurred: n audited events between lo and lo+span, the first produced at
// loAt and the last at hiAt (unix seconds).
type segment struct {
	lo         int64
	span       uint32
	n          uint32
	loAt, hiAt uint32
}

func (s *segment) hi() int64 { return s.lo + int64(s.span) }

// positions is where one type and version occurred on one partition.
type positions struct {
	typ    uint16 // index into the index's types
	nseg   uint8
	segs   [maxSegments]segment
	joined int64 // highest occurrence already present at the last Join; -1 before
}

// add records an occurrence at offset o, produced at unix second at. An
// occurrence at or below the newest one is a record read again (or out of
// order) and is not counted twice.
func (p *positions) add(o int64, at uint32) {
	if p.nseg > 0 {
		last := &p.segs[p.nseg-1]
		if o <= last.hi() {
			return
		}
		if at >= last.hiAt && at-last.hiAt < slotSeconds && o-last.lo < math.MaxUint32 {
			last.span, last.n, last.hiAt = uint32(o-last.lo), last.n+1, at
			return
		}
	}
	if p.nseg == maxSegments {
		p.mergeOldest()
	}
	p.segs[p.nseg] = segment{lo: o, n: 1, loAt: at, hiAt: at}
	p.nseg++
}

// mergeOldest folds the second-oldest segment into the oldest one (or
// drops the oldest when the merged range would not fit).
func (p *positions) mergeOldest() {
	a, b := p.segs[0], p.segs[1]
	if b.hi()-a.lo < math.MaxUint32 {
		p.segs[1] = segment{lo: a.lo, span: uint32(b.hi() - a.lo), n: a.n + b.n, loAt: a.loAt, hiAt: b.hiAt}
	}
	copy(p.segs[:], p.segs[1:p.nseg])
	p.nseg--
}

// newest is the highest occurrence offset, -1 when none.
func (p *positions) newest() int64 {
	if p.nseg == 0 {
		return -1
	}
	return p.segs[p.nseg-1].hi()
}

// lastBelow is the highest occurrence below the committed offset c (an
// estimate when c falls inside a segment) and when it was produced.
func (p *positions) lastBelow(c int64) (off int64, at uint32, ok bool) {
	for i := int(p.nseg) - 1; i >= 0; i-- {
		s := &p.segs[i]
		switch {
		case s.lo >= c:
			continue
		case s.hi() < c:
			return s.hi(), s.hiAt, true
		default:
			return c - 1, s.timeAt(c - 1), true
		}
	}
	return 0, 0, false
}

// behind is how many occurrences are at or after the committed offset c
// and when the oldest of them was produced (0 when none); ranges whose
// first event was produced after until (the committed offsets' time) are
// not counted: nobody could have read them then.
func (p *positions) behind(c int64, until uint32) (n int64, oldest uint32) {
	for i := int(p.nseg) - 1; i >= 0; i-- {
		s := &p.segs[i]
		switch {
		case s.loAt > until:
			continue
		case s.lo >= c:
			n += int64(s.n)
			oldest = s.loAt
		case s.hi() >= c:
			part := int64(s.n) * (s.hi() - c + 1) / (int64(s.span) + 1)
			n += max(part, 1)
			oldest = s.timeAt(c)
			return n, oldest
		default:
			return n, oldest
		}
	}
	return n, oldest
}

// timeAt interpolates the production time of offset o inside s.
func (s *segment) timeAt(o int64) uint32 {
	if s.span == 0 || s.hiAt <= s.loAt {
		return s.loAt
	}
	return s.loAt + uint32(int64(s.hiAt-s.loAt)*(o-s.lo)/int64(s.span))
}
