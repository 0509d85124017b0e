package lag

import (
	"testing"
)

// obs is what one cycle sees of a partition: its time (seconds), the
// committed and end offsets (end -1: not listed) and the time lag in
// seconds (-1: unknown).
type obs struct {
	at             float64
	committed, end int64
	waited         float64
}

// judge is the evidence that does not change from cycle to cycle.
type judge struct {
	window     int32
	owned      bool
	allowed    int64
	stopAfter  float64 // seconds
	ownerMoves func(cycle int32) int32
}

// run feeds the observations to a window summary, one cycle each, and
// returns the status and reason at every cycle.
func (j judge) run(samples []obs) ([]Status, []string) {
	at := func(c int32) int64 { return int64(samples[max(c, 1)-1].at * 1e9) }
	w := newPartWindow()
	var out []Status
	var why []string
	for i, s := range samples {
		c := int32(i + 1)
		lag := max(s.end-s.committed, 0)
		w.observe(c, j.window, s.committed, lag, s.end >= 0, j.allowed)
		e := evidence{at: at, cycle: c, window: j.window, lagKnown: s.end >= 0, owned: j.owned, allowed: j.allowed,
			stopAfter: int64(j.stopAfter * 1e9), waited: int64(s.waited * 1e9), end: s.end, endThen: -1}
		if s.waited < 0 {
			e.waited = -1
		}
		if w.a0 >= 1 && c-w.a0 < j.window {
			e.endThen = samples[w.a0-1].end
		}
		if j.ownerMoves != nil {
			e.ownerMoved = j.ownerMoves(c)
		} else {
			e.ownerMoved = w.moved
		}
		st, r := w.status(&e)
		out, why = append(out, st), append(why, r)
	}
	return out, why
}

func (j judge) last(samples []obs) Status {
	s, _ := j.run(samples)
	return s[len(s)-1]
}

// every returns n observations 15 s apart from f(i).
func every(n int, f func(i int) obs) []obs {
	out := make([]obs, n)
	for i := range out {
		out[i] = f(i)
		out[i].at = float64(i) * 15
	}
	return out
}

var defaults = judge{window: 10, stopAfter: 60}

func TestPartitionStatus(t *testing.T) {
	owned := defaults
	owned.owned = true
	tests := []struct {
		name string
		j    judge
		obs  []obs
		want Status
	}{
		{"one sample is not enough", defaults, every(1, func(int) obs { return obs{committed: 10, end: 60, waited: 5} }), StatusOK},
		{"caught up", defaults, every(5, func(i int) obs { return obs{committed: int64(10 * i), end: int64(10 * i), waited: 0} }), StatusOK},
		{"idle topic, caught up, nobody home", defaults, every(40, func(int) obs { return obs{committed: 7, end: 7, waited: 0} }), StatusOK},
		{"keeping up with a wobbling lag", owned, every(20, func(i int) obs {
			return obs{committed: int64(100 * i), end: int64(100*i + 3*(i%3)), waited: 0.5}
		}), StatusOK},
		{"draining a backlog", owned, every(8, func(i int) obs {
			return obs{committed: int64(100 * i), end: int64(1000 + 50*i), waited: 300 - float64(10*i)}
		}), StatusOK},
		{"slow consumer falls behind", owned, every(20, func(i int) obs {
			return obs{committed: int64(15 * i), end: int64(100 + 30*i), waited: 60 + 7.5*float64(i)}
		}), StatusWarn},
		{"stopped, nobody owns it", defaults, every(6, func(i int) obs { return obs{committed: 10, end: int64(20 + i), waited: float64(15*i) + 10} }), StatusStop},
		{"stuck, owned", owned, every(6, func(i int) obs { return obs{committed: 10, end: int64(20 + i), waited: float64(15*i) + 10} }), StatusStall},
		{"not stuck before stop_after", defaults, every(4, func(i int) obs { return obs{committed: 10, end: 20, waited: float64(15 * i)} }), StatusOK},
		{"offset went back", owned, []obs{{0, 30, 40, 1}, {15, 10, 40, 50}, {30, 20, 45, 40}}, StatusRewind},
		{"end offset not listed", defaults, []obs{{0, 10, 20, 1}, {15, 10, -1, -1}}, StatusUnknown},
		{"allowed lag", judge{window: 10, stopAfter: 60, allowed: 1}, every(30, func(int) obs { return obs{committed: 100, end: 101, waited: 999} }), StatusOK},
		{"above the allowed lag", judge{window: 10, stopAfter: 60, allowed: 1}, every(30, func(int) obs { return obs{committed: 100, end: 102, waited: 999} }), StatusStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := tt.j.run(tt.obs); got[len(got)-1] != tt.want {
				t.Fatalf("status = %s (%s), want %s; all %v", got[len(got)-1], why[len(why)-1], tt.want, got)
			}
		})
	}
}

// TestSlowConsumerNeverFlips is the demo's result_aggregator_service over
// five minutes of 15 s samples: it commits, advances, and falls behind. It
// is WARN from its third sample on, never STOP or STALL, and never flips.
func TestSlowConsumerNeverFlips(t *testing.T) {
	j := defaults
	j.owned = true
	samples := every(21, func(i int) obs {
		return obs{committed: int64(15 * i), end: int64(40 + 20*i), waited: 20 + 5*float64(i)}
	})
	got, why := j.run(samples)
	for i, s := range got[2:] {
		if s != StatusWarn || why[i+2] != ReasonFallingBehind {
			t.Fatalf("sample %d: %s (%s), want WARN (falling behind); all %v", i+2, s, why[i+2], got)
		}
	}
}

// TestWaitingItsTurn is a live member that does not move one partition
// for longer than stop_after while it advances its others (a consumer that
// drains one partition's fetch at a time): WARN, not STALL. Once the
// member stops advancing anything, the partition is STALL.
func TestWaitingItsTurn(t *testing.T) {
	j := defaults
	j.owned = true
	busy := func(c int32) int32 { return c } // the member advances another partition every cycle
	j.ownerMoves = busy
	samples := every(10, func(i int) obs { return obs{committed: 5, end: int64(50 + i), waited: 100 + float64(15*i)} })
	if got := j.last(samples); got != StatusWarn {
		t.Fatalf("waiting its turn: %s, want WARN", got)
	}
	j.ownerMoves = func(int32) int32 { return 0 }
	if got := j.last(samples); got != StatusStall {
		t.Fatalf("member advances nothing: %s, want STALL", got)
	}
}

// TestStopWithinStopAfter: a consumer caught up on an idle topic leaves;
// an hour later a record arrives. It is OK for the hour and STOP at the
// first sample at least stop_after after the record arrived, whatever its
// old commit cadence.
func TestStopWithinStopAfter(t *testing.T) {
	var samples []obs
	for i := range 250 { // 62.5 minutes idle, caught up
		samples = append(samples, obs{at: float64(15 * i), committed: 100, end: 100})
	}
	arrival := samples[len(samples)-1].at + 7
	for i := 1; i <= 6; i++ {
		at := arrival - 7 + float64(15*i)
		samples = append(samples, obs{at: at, committed: 100, end: 101, waited: at - arrival})
	}
	got, _ := defaults.run(samples)
	for i, s := range got {
		stopAt := i < len(samples) && samples[i].at-arrival >= 60
		if want := map[bool]Status{true: StatusStop, false: StatusOK}[stopAt]; s != want {
			t.Fatalf("sample %d at %.0f s (%.0f s after the record): %s, want %s", i, samples[i].at, samples[i].at-arrival, s, want)
		}
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

func TestLostRecordsCountedOnce(t *testing.T) {
	w := newPartWindow()
	w.observe(1, 10, 5, 0, true, 0)
	steps := []struct {
		committed, start, want int64
	}{
		{5, 3, 0},   // nothing deleted above the committed offset
		{5, 9, 4},   // 5..8 deleted unread
		{5, 9, 0},   // the same range, seen again
		{5, 12, 3},  // 9..11 too
		{12, 12, 0}, // the group moved on
		{20, 30, 10},
	}
	for i, s := range steps {
		w.observe(int32(i+2), 10, s.committed, 0, true, 0)
		if got := w.lost(s.start); got != s.want {
			t.Fatalf("step %d: lost %d, want %d", i, got, s.want)
		}
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
