package lag

import "testing"

// sample is one (committed offset, lag) observation.
type sample struct{ committed, lag int64 }

func win(pairs ...int64) []sample {
	var w []sample
	for i := 0; i+1 < len(pairs); i += 2 {
		w = append(w, sample{committed: pairs[i], lag: pairs[i+1]})
	}
	return w
}

// everySecond is the clock of cycles one second apart.
func everySecond(cycle int32) int64 { return int64(cycle) * 1e9 }

// partitionStatus feeds the samples to a window summary at cycles 1..n, one
// second apart, and evaluates it with a window of exactly n cycles and no
// allowed lag.
func partitionStatus(samples []sample, owned bool) Status {
	w := newPartWindow()
	n := int32(len(samples))
	for i, s := range samples {
		w.observe(int32(i+1), n, s.committed, s.lag, true, 0)
	}
	return w.status(everySecond, n, n, owned, true, 0)
}

// TestWindowSlides checks that events leave the window: a rewind and a
// catch-up older than the window no longer count.
func TestWindowSlides(t *testing.T) {
	w := newPartWindow()
	samples := win(30, 0, 10, 20, 10, 25, 10, 30, 10, 35, 10, 40)
	for i, s := range samples {
		w.observe(int32(i+1), 6, s.committed, s.lag, true, 0)
	}
	// Cycles 1..6; a window of 3 sees cycles 4..6: no progress, lag > 0.
	if got := w.status(everySecond, 6, 3, false, true, 0); got != StatusStop {
		t.Fatalf("status over the last 3 cycles = %s, want STOP", got)
	}
	// Over all 6 cycles the rewind is in the window, but the last commit
	// (cycle 2) is older than the history before it: commits stopped, which
	// Burrow checks before rewinds.
	if got := w.status(everySecond, 6, 6, false, true, 0); got != StatusStop {
		t.Fatalf("status over all 6 cycles = %s, want STOP", got)
	}
	// A sample without a known end offset moves the offset but keeps the lag.
	w.observe(7, 3, 12, 0, false, 0)
	w.observe(8, 3, 14, 38, true, 0)
	if got := w.status(everySecond, 8, 3, true, true, 0); got != StatusOK {
		t.Fatalf("status after progress and a lag drop = %s, want OK", got)
	}
}

func TestPartitionStatus(t *testing.T) {
	tests := []struct {
		name  string
		w     []sample
		owned bool
		want  Status
	}{
		{"one sample is not enough", win(10, 50), false, StatusOK},
		{"caught up now", win(10, 5, 15, 0), true, StatusOK},
		{"caught up earlier in the window", win(10, 0, 10, 5, 10, 9), false, StatusOK},
		{"progressing and catching up", win(10, 50, 20, 40, 30, 30), true, StatusOK},
		{"lag went down once", win(10, 50, 20, 60, 30, 55), true, StatusOK},
		{"progressing, lag flat", win(10, 50, 20, 50, 30, 50), true, StatusWarn},
		{"progressing, lag growing", win(10, 50, 20, 60, 30, 70), true, StatusWarn},
		{"no progress, owned", win(10, 50, 10, 60, 10, 70), true, StatusStall},
		{"no progress, owned, lag flat", win(10, 50, 10, 50, 10, 50), true, StatusStall},
		{"no progress, nobody owns it", win(10, 50, 10, 60, 10, 70), false, StatusStop},
		{"offset went back", win(30, 10, 10, 30, 20, 20), true, StatusRewind},
		{"rewind wins over caught up", win(30, 0, 10, 20), false, StatusRewind},
		{"no progress but caught up", win(10, 0, 10, 0, 10, 0), false, StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := partitionStatus(tt.w, tt.owned); got != tt.want {
				t.Fatalf("partitionStatus = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestGroupStatus(t *testing.T) {
	tests := []struct {
		name        string
		counts      statusCounts
		group, want Status
	}{
		{"all ok", statusCounts{StatusOK: 4}, StatusOK, StatusOK},
		{"one warn", statusCounts{StatusOK: 3, StatusWarn: 1}, StatusWarn, StatusWarn},
		{"stall beats warn", statusCounts{StatusWarn: 3, StatusStall: 1}, StatusErr, StatusStall},
		{"stop beats stall and rewind", statusCounts{StatusStop: 1, StatusStall: 1, StatusRewind: 2}, StatusErr, StatusStop},
		{"rewind", statusCounts{StatusOK: 1, StatusRewind: 1}, StatusErr, StatusRewind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, c := tt.counts.groupStatus()
			if g != tt.group || c != tt.want {
				t.Fatalf("groupStatus = %s/%s, want %s/%s", g, c, tt.group, tt.want)
			}
		})
	}
}

func TestOffsetLag(t *testing.T) {
	tests := []struct {
		name                  string
		committed, start, end int64
		want                  int64
	}{
		{"behind", 10, 0, 25, 15},
		{"caught up", 25, 0, 25, 0},
		{"ahead of end is never negative", 30, 0, 25, 0},
		{"below deleted segments", 2, 5, 9, 4},
		{"start unknown", 2, noSample, 9, 7},
		{"end unknown", 2, 0, noSample, 0},
		{"compacted gaps do not matter", 100, 40, 180, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := offsetLag(tt.committed, tt.start, tt.end); got != tt.want {
				t.Fatalf("offsetLag = %d, want %d", got, tt.want)
			}
		})
	}
}
