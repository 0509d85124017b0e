package lag

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// table feeds (end offset, second) samples in order.
func table(size int, samples ...[2]float64) *offsetTable {
	t := newOffsetTable(size)
	for _, s := range samples {
		t.add(int64(s[0]), at(s[1]))
	}
	return t
}

func TestLagSeconds(t *testing.T) {
	steady := [][2]float64{{0, 0}, {100, 10}, {200, 20}, {300, 30}}
	tests := []struct {
		name      string
		samples   [][2]float64
		committed int64
		now       float64
		want      float64 // NaN for unknown
	}{
		{"caught up", steady, 300, 30, 0},
		{"ahead of table after a reset", steady, 310, 30, 0},
		{"interpolated mid interval", steady, 149, 30, 15},
		{"interpolated at a point", steady, 199, 30, 10},
		{"one record behind", steady, 299, 30, 0},
		{"fewer than two points, behind", [][2]float64{{50, 0}}, 10, 5, math.NaN()},
		{"fewer than two points, caught up", [][2]float64{{50, 0}}, 50, 5, 0},
		{"no points", nil, 0, 5, math.NaN()},
		// Idle partition: the end offset stayed 300 from second 30 to 90;
		// the table keeps the first time it was seen, so the lag grows
		// with the wall clock instead of collapsing to the poll interval.
		{"idle partition behind", append(steady, [2]float64{300, 60}, [2]float64{300, 90}), 249, 90, 65},
		{"idle partition caught up", append(steady, [2]float64{300, 60}, [2]float64{300, 90}), 300, 90, 0},
		// Burst: 1000 records appended between seconds 10 and 20 after a
		// quiet start; interpolation spreads them over the interval, the
		// error is at most one poll interval, never a spike.
		{"burst", [][2]float64{{0, 0}, {10, 10}, {1010, 20}, {1010, 30}}, 509, 30, 15},
		// Committed before the first point: extrapolated at the average
		// rate (10 records/s) and never less than the first point's age.
		{"before first point", [][2]float64{{1000, 0}, {1100, 10}}, 900, 10, 20},
		{"flat table is a single point, behind", [][2]float64{{1000, 0}, {1000, 10}, {1000, 20}}, 900, 20, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := table(60, tt.samples...).lagSeconds(tt.committed, at(tt.now))
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.want) > 1e-6) {
				t.Fatalf("lagSeconds(%d) = %v, want %v", tt.committed, got, tt.want)
			}
		})
	}
}

// TestLagSecondsNoBouncing polls a steady producer and a consumer that
// alternates between caught up and a few records behind: the time lag must
// stay within one poll interval, never jump to the table's age.
func TestLagSecondsNoBouncing(t *testing.T) {
	tab := newOffsetTable(10)
	for i := range 100 {
		end := int64(i * 100)
		tab.add(end, at(float64(i*10)))
		committed := end
		if i%2 == 1 {
			committed = end - 5
		}
		got := tab.lagSeconds(committed, at(float64(i*10)))
		if i == 0 {
			continue
		}
		if got < 0 || got > 10 {
			t.Fatalf("poll %d: lag %v s, want within [0, 10]", i, got)
		}
	}
}

// TestOffsetTableThinsOut checks that a full table keeps its first and last
// points and stays sorted, so old history thins out instead of vanishing.
func TestOffsetTableThinsOut(t *testing.T) {
	tab := newOffsetTable(8)
	for i := range 100 {
		tab.add(int64(i*10), at(float64(i)))
	}
	if len(tab.offs) != 8 || tab.offs[0] != 0 || tab.offs[7] != 990 {
		t.Fatalf("table = %v, want 8 points from 0 to 990", tab.offs)
	}
	for i := 1; i < len(tab.offs); i++ {
		if tab.offs[i] <= tab.offs[i-1] || tab.times[i] <= tab.times[i-1] {
			t.Fatalf("table not increasing: %v %v", tab.offs, tab.times)
		}
	}
	// Steady rate: interpolation over thinned points is still exact.
	if got := tab.lagSeconds(499, at(99)); math.Abs(got-49) > 1e-6 {
		t.Fatalf("lag after thinning = %v, want 49", got)
	}
}

func TestOffsetTableResetsOnTruncation(t *testing.T) {
	tab := table(10, [2]float64{100, 0}, [2]float64{200, 10}, [2]float64{5, 20})
	if len(tab.offs) != 1 || tab.offs[0] != 5 {
		t.Fatalf("table after end offset went back = %v, want [5]", tab.offs)
	}
}

// TestSeededTable: a partition first seen idle is seeded with its last
// record's timestamp, so a stopped consumer's time lag is that record's
// age at least, from the first cycle on, and 0 when caught up.
func TestSeededTable(t *testing.T) {
	tab := newOffsetTable(10)
	tab.seed(40, at(100), at(700))
	tab.add(40, at(700)) // polled: still idle
	if got := tab.lagSeconds(10, at(700)); got != 600 {
		t.Fatalf("seeded lag = %v, want 600 (age of the last record)", got)
	}
	if got := tab.lagSeconds(40, at(700)); got != 0 {
		t.Fatalf("caught up lag = %v, want 0", got)
	}
	future := newOffsetTable(10)
	future.seed(40, at(900), at(700)) // producer clock ahead of ours
	if got := future.lagSeconds(10, at(700)); got != 0 {
		t.Fatalf("lag with a future timestamp = %v, want 0", got)
	}
}

// FuzzOffsetTable feeds arbitrary polls (end offset steps and time steps)
// and checks the invariants of lagSeconds for every committed offset: never
// negative, 0 exactly at or past the end, and monotone (an older offset is
// never less behind than a newer one).
func FuzzOffsetTable(f *testing.F) {
	f.Add([]byte{10, 1, 0, 1, 200, 5, 0, 9, 3, 1}, uint8(8))
	f.Add([]byte{0, 0, 0, 0}, uint8(2))
	f.Add([]byte{255, 255, 1, 1, 255, 1}, uint8(3))
	f.Fuzz(func(t *testing.T, steps []byte, size uint8) {
		tab := newOffsetTable(int(size%64) + 2)
		var end int64
		now := t0
		for i := 0; i+1 < len(steps); i += 2 {
			end += int64(steps[i]) - 20 // may go back: a reset
			end = max(end, 0)
			now = now.Add(time.Duration(steps[i+1]) * time.Second)
			tab.add(end, now)
		}
		prev := math.Inf(1)
		for c := int64(0); c <= end+2; c++ {
			got := tab.lagSeconds(c, now)
			if math.IsNaN(got) {
				continue
			}
			if got < 0 || (c >= end && got != 0) || got > prev+1e-9 {
				t.Fatalf("lagSeconds(%d) = %v (previous %v, end %d, table %v %v)", c, got, prev, end, tab.offs, tab.times)
			}
			prev = got
		}
	})
}
