package lag

import (
	"math"
	"sort"
	"time"
)

// offsetTable is the per-partition table of (end offset, time) samples that
// turns an offset lag into a time lag (the kafka-lag-exporter method).
//
// Each point records the FIRST time an end offset was seen: a partition whose
// end offset stays flat adds no point, so the table remembers when the last
// record was appended rather than when it was last polled. The table also
// remembers the LAST time the newest end offset was seen unchanged; when the
// end offset moves again, that sighting becomes a point of its own (same
// offset, later time), so records appended after an idle period are dated
// within one poll interval instead of being spread over the idle period.
// Offsets never decrease and times strictly increase. When the table is full, the
// interior point whose neighbours are closest in time is dropped, so recent
// history stays dense and older history thins out instead of falling off.
type offsetTable struct {
	size     int // most points kept
	offs     []int64
	times    []int64 // unix nanoseconds
	seeded   bool    // the first point's time is the last record's timestamp
	lastSeen int64   // last poll (unix nanoseconds) that saw the newest point's offset unchanged; 0 when none
}

// newOffsetTable returns an empty table of at most size points; its slices
// grow as points come (an idle partition keeps one point).
func newOffsetTable(size int) *offsetTable {
	return &offsetTable{size: size}
}

// add records that the end offset was end at time at. An end offset below
// the last point (topic recreated or truncated) resets the table.
func (t *offsetTable) add(end int64, at time.Time) {
	n := len(t.offs)
	if n > 0 {
		last := t.offs[n-1]
		switch {
		case end == last:
			t.lastSeen = at.UnixNano()
			return
		case end < last:
			t.offs, t.times, t.seeded, t.lastSeen = t.offs[:0], t.times[:0], false, 0
		}
	}
	if n := len(t.offs); n > 0 && t.lastSeen > t.times[n-1] {
		t.push(t.offs[n-1], t.lastSeen) // the end of the plateau
	}
	t.lastSeen = 0
	t.push(end, at.UnixNano())
}

// push appends a point, dropping one first when the table is full.
func (t *offsetTable) push(off, at int64) {
	if len(t.offs) >= t.size {
		t.dropOne()
	}
	t.offs = append(t.offs, off)
	t.times = append(t.times, at)
}

// seed starts an empty table with the end offset and the timestamp of the
// partition's last record (ListOffsets max timestamp, KIP-734), so that an
// idle partition has a true first point instead of "first polled now".
func (t *offsetTable) seed(end int64, last, now time.Time) {
	if len(t.offs) > 0 || end <= 0 || last.IsZero() {
		return
	}
	if last.After(now) {
		last = now // producer clock ahead of ours
	}
	t.add(end, last)
	t.seeded = true
}

// dropOne removes the interior point whose neighbours are closest in time;
// the first and last points are always kept.
func (t *offsetTable) dropOne() {
	n := len(t.offs)
	if n < 3 {
		t.offs, t.times = t.offs[1:], t.times[1:]
		return
	}
	best, bestGap := 1, int64(math.MaxInt64)
	for i := 1; i < n-1; i++ {
		if gap := t.times[i+1] - t.times[i-1]; gap < bestGap {
			best, bestGap = i, gap
		}
	}
	copy(t.offs[best:], t.offs[best+1:])
	copy(t.times[best:], t.times[best+1:])
	t.offs, t.times = t.offs[:n-1], t.times[:n-1]
}

// lagSeconds estimates how long ago the record at offset committed (the next
// record the group will read) was appended, seen from now.
//
//   - committed at or past the last point: the group is caught up, 0.
//   - one point seeded from the last record's timestamp: the group has not
//     read that record, so its lag is at least the record's age; that lower
//     bound is the answer.
//   - otherwise fewer than two points: unknown (NaN) unless caught up.
//   - committed between two points: linear interpolation of the time the end
//     offset passed committed.
//   - committed before the first point: the record is older than the first
//     point; extrapolate with the table's average rate, never less than the
//     age of the first point (if the rate is 0 that age is the answer).
//
// The result is never negative.
func (t *offsetTable) lagSeconds(committed int64, now time.Time) float64 {
	var c anchors
	t.lagClock(committed, &c)
	return float64(c.lagAt(now.UnixNano()))
}

// lagClock sets c's lag to lagSeconds's as a function of the time it is
// read at: its anchor is the estimated append time.
func (t *offsetTable) lagClock(committed int64, c *anchors) {
	n := len(t.offs)
	switch {
	case n > 0 && committed >= t.offs[n-1]:
		c.lag, c.fixed = lagFixed, 0
	case n == 1 && t.seeded:
		c.lag, c.at = lagSeeded, t.times[0]
	case n < 2:
		c.lag, c.fixed = lagFixed, math.NaN()
	default:
		k := sort.Search(n, func(i int) bool { return t.offs[i] > committed })
		c.lag = lagEstimated
		if k == 0 {
			c.est = t.extrapolate(committed)
		} else {
			c.est = interpolate(t.offs[k-1], t.times[k-1], t.offs[k], t.times[k], committed+1)
		}
	}
}

// interpolate returns the time the end offset reached off, on the line
// through (o0, t0) and (o1, t1); o0 < off <= o1.
func interpolate(o0, t0, o1, t1, off int64) float64 {
	frac := float64(off-o0) / float64(o1-o0)
	return float64(t0) + frac*float64(t1-t0)
}

// extrapolate returns the estimated append time of committed, which lies
// before the first point: the first point's time minus the records in
// between at the table's average rate.
func (t *offsetTable) extrapolate(committed int64) float64 {
	n := len(t.offs)
	first := float64(t.times[0])
	span := t.times[n-1] - t.times[0]
	recs := t.offs[n-1] - t.offs[0]
	if span <= 0 || recs <= 0 {
		return first
	}
	perRecord := float64(span) / float64(recs)
	return first - float64(t.offs[0]-committed)*perRecord
}
