package lag

import (
	"fmt"
	"testing"
)

// burrowCommit is one commit of Burrow's evaluator table: the committed
// offset, its timestamp (milliseconds) and the lag when it was committed
// (lagKnown false where Burrow's Lag is nil).
type burrowCommit struct {
	offset, ts, lag int64
	lagKnown        bool
}

func bc(offset, ts, lag int64) burrowCommit { return burrowCommit{offset, ts, lag, true} }

// burrowCase is one case of the `tests` table of Burrow's
// core/internal/evaluator/caching_test.go (github.com/linkedin/Burrow):
// commits, the recent broker end offsets (newest first), the current lag,
// the evaluation time (seconds), the allowed lag and Burrow's status.
type burrowCase struct {
	commits       []burrowCommit
	brokerOffsets []int64
	currentLag    int64
	now           int64
	allowedLag    int64
	want          Status
}

// burrowCommits290 are the commits of Burrow's cases 9 and 10 (issues #290
// and #303): one commit a second, each caught up.
var burrowCommits290 = func() []burrowCommit {
	ts := []int64{1512224618356, 1512224619362, 1512224620366, 1512224621367, 1512224622370, 1512224623373,
		1512224624378, 1512224625379, 1512224626383, 1512224627383, 1512224628383, 1512224629388,
		1512224630391, 1512224631394, 1512224632397}
	out := make([]burrowCommit, len(ts))
	for i, t := range ts {
		out[i] = bc(792748079+int64(i), t, 0)
	}
	return out
}()

var burrowTests = []burrowCase{
	// 0: zero lag at the first commit
	{[]burrowCommit{bc(1000, 100000, 0), bc(2000, 200000, 50), bc(3000, 300000, 100), bc(4000, 400000, 150), bc(5000, 500000, 200)},
		[]int64{5200}, 200, 600, 0, StatusOK},
	// 1: time since the last commit (400 s) equals the commit history, not longer
	{[]burrowCommit{bc(1000, 100000, 0), bc(2000, 200000, 50), bc(3000, 300000, 100), bc(4000, 400000, 150), bc(5000, 500000, 200)},
		[]int64{5200}, 200, 900, 0, StatusOK},
	// 2: no commit for 500 s, longer than the 400 s of history: STOP although the lag was 0 (#290)
	{[]burrowCommit{bc(1000, 100000, 0), bc(2000, 200000, 50), bc(3000, 300000, 100), bc(4000, 400000, 150), bc(5000, 500000, 200)},
		[]int64{5200}, 200, 1000, 0, StatusStop},
	// 3: the same with lag always above zero
	{[]burrowCommit{bc(1000, 100000, 50), bc(2000, 200000, 100), bc(3000, 300000, 150), bc(4000, 400000, 200), bc(5000, 500000, 250)},
		[]int64{5250}, 250, 1000, 0, StatusStop},
	// 4: the offset never moves, but the lag was 0 at the first commit
	{[]burrowCommit{bc(1000, 100000, 0), bc(1000, 200000, 50), bc(1000, 300000, 100), bc(1000, 400000, 150), bc(1000, 500000, 200)},
		[]int64{1200}, 200, 600, 0, StatusOK},
	// 5: the offset never moves and the lag is never 0
	{[]burrowCommit{bc(1000, 100000, 100), bc(1000, 200000, 150), bc(1000, 300000, 200), bc(1000, 400000, 250), bc(1000, 500000, 300)},
		[]int64{1300}, 300, 600, 0, StatusStall},
	// 6: the same with a flat lag
	{[]burrowCommit{bc(1000, 100000, 100), bc(1000, 200000, 100), bc(1000, 300000, 100), bc(1000, 400000, 100), bc(1000, 500000, 100)},
		[]int64{1100}, 100, 600, 0, StatusStall},
	// 7: a rewind the consumer recovered from (4000 passes 3000), and the lag decreased
	{[]burrowCommit{bc(1000, 100000, 100), bc(2000, 200000, 150), bc(3000, 300000, 200), bc(2000, 400000, 1250), bc(4000, 500000, 300)},
		[]int64{4300}, 300, 600, 0, StatusOK},
	// 8: the current lag is 0, whatever the history says
	{[]burrowCommit{bc(1000, 100000, 50), bc(2000, 200000, 100), bc(3000, 300000, 150), bc(4000, 400000, 200), bc(5000, 500000, 250)},
		[]int64{5250}, 0, 1000, 0, StatusOK},
	// 9: caught up at every commit, then silent while new data arrives (#290)
	{burrowCommits290, []int64{792749024, 792749000, 792748800, 792748600, 792748500}, 931, 1512224650, 0, StatusStop},
	// 10: the same, but caught up after the last commit in the recent broker offsets (#303)
	{burrowCommits290, []int64{792748094, 792748093, 792748093, 792748093}, 1, 1512224650, 0, StatusOK},
	// 11: case 0 with commits whose lag is unknown in between
	{[]burrowCommit{bc(1000, 100000, 0), {1500, 150000, 0, false}, bc(2000, 200000, 50), {2500, 250000, 0, false},
		bc(3000, 300000, 100), {3500, 350000, 0, false}, bc(4000, 400000, 150), {4500, 450000, 0, false},
		bc(5000, 500000, 200), {5500, 550000, 0, false}},
		[]int64{5700}, 200, 600, 0, StatusOK},
	// 12: the current lag (1) is within the allowed lag
	{[]burrowCommit{bc(1000, 100000, 2), bc(2000, 200000, 1), bc(2000, 300000, 1)},
		[]int64{2001}, 1, 550, 1, StatusOK},
	// 13: case 5 with an allowed lag below every lag
	{[]burrowCommit{bc(1000, 100000, 100), bc(1000, 200000, 150), bc(1000, 300000, 200), bc(1000, 400000, 250), bc(1000, 500000, 300)},
		[]int64{1300}, 300, 600, 99, StatusStall},
	// 14: case 7 with an allowed lag
	{[]burrowCommit{bc(1000, 100000, 100), bc(2000, 200000, 150), bc(3000, 300000, 200), bc(2000, 400000, 1250), bc(4000, 500000, 300)},
		[]int64{4300}, 300, 600, 99, StatusOK},
	// 15: a rewind the consumer has not recovered from (2500 < 3000)
	{[]burrowCommit{bc(1000, 100000, 100), bc(2000, 200000, 150), bc(3000, 300000, 200), bc(2000, 400000, 1250), bc(2500, 500000, 300)},
		[]int64{4300}, 300, 600, 0, StatusRewind},
}

// cycleSample is what one collection cycle sees of a partition.
type cycleSample struct {
	at        int64 // nanoseconds
	committed int64
	end       int64 // -1: not listed this cycle
}

// replay feeds samples to a window summary, one cycle each, with a window
// covering all of them, and returns the status at the last one.
func replay(samples []cycleSample, owned bool, allowed int64) Status {
	n := int32(len(samples))
	at := func(c int32) int64 { return samples[max(c, 1)-1].at }
	w := newPartWindow()
	for i, s := range samples {
		w.observe(int32(i+1), n, s.committed, max(s.end-s.committed, 0), s.end >= 0, allowed)
	}
	return w.status(at, n, n, owned, samples[n-1].end >= 0, allowed)
}

// commitCycles replays a Burrow case as eventwatch sees it when it polls
// once per commit: one cycle per commit, then one cycle per older recent
// broker offset (oldest first), evenly between the last commit and the
// evaluation time, and a last one at the evaluation time with the current
// lag.
func (bt burrowCase) commitCycles() []cycleSample {
	var out []cycleSample
	for _, c := range bt.commits {
		end := int64(-1)
		if c.lagKnown {
			end = c.offset + c.lag
		}
		out = append(out, cycleSample{at: c.ts * 1e6, committed: c.offset, end: end})
	}
	last := bt.commits[len(bt.commits)-1]
	n := int64(len(bt.brokerOffsets))
	for i := range n - 1 {
		end := bt.brokerOffsets[n-1-i]
		at := last.ts*1e6 + (bt.now*1e9-last.ts*1e6)*(i+1)/n
		out = append(out, cycleSample{at: at, committed: last.offset, end: end})
	}
	return append(out, cycleSample{at: bt.now * 1e9, committed: last.offset, end: last.offset + bt.currentLag})
}

// pollingCycles replays a Burrow case as eventwatch sees it when it polls
// at the commit spacing: after the commits, one cycle per spacing until the
// evaluation time, each seeing the current lag.
func (bt burrowCase) pollingCycles() []cycleSample {
	out := bt.commitCycles()
	out = out[:len(bt.commits)]
	last := bt.commits[len(bt.commits)-1]
	spacing := (bt.commits[1].ts - bt.commits[0].ts) * 1e6
	end := last.offset + bt.currentLag
	for at := last.ts*1e6 + spacing; at < bt.now*1e9; at += spacing {
		out = append(out, cycleSample{at: at, committed: last.offset, end: end})
	}
	return append(out, cycleSample{at: bt.now * 1e9, committed: last.offset, end: end})
}

// eventwatchWants is eventwatch's status for a Burrow case given whether a
// member owns the partition: Burrow's, except that eventwatch tells STOP from
// STALL by ownership (docs/lag.md lists these deviations).
func (bt burrowCase) eventwatchWants(owned bool) Status {
	if bt.want == StatusStop || bt.want == StatusStall {
		return stopOrStall(owned)
	}
	return bt.want
}

// TestBurrowEvaluatorTable replays the 16 cases of Burrow's evaluator
// table through eventwatch's status, owned and not owned, polled once per
// commit and (where the case has one broker offset) at the commit spacing.
func TestBurrowEvaluatorTable(t *testing.T) {
	if len(burrowTests) != 16 {
		t.Fatalf("%d Burrow cases, want 16", len(burrowTests))
	}
	for i, bt := range burrowTests {
		replays := map[string][]cycleSample{"one cycle per commit": bt.commitCycles()}
		if len(bt.brokerOffsets) == 1 {
			replays["polling at the commit spacing"] = bt.pollingCycles()
		}
		for name, samples := range replays {
			for _, owned := range []bool{true, false} {
				t.Run(fmt.Sprintf("%d/%s/owned=%t", i, name, owned), func(t *testing.T) {
					got := replay(samples, owned, bt.allowedLag)
					if want := bt.eventwatchWants(owned); got != want {
						t.Fatalf("status %s, want %s (Burrow: %s)", got, want, bt.want)
					}
				})
			}
		}
	}
}

// TestIssueProbes covers the defects issue 14 found: recovered rewinds,
// current lag 0, unknown lag and allowed lag. Samples are (committed, end)
// per cycle, one second apart; end -1 is an end offset not listed.
func TestIssueProbes(t *testing.T) {
	tests := []struct {
		name    string
		pairs   []int64
		owned   bool
		allowed int64
		want    Status
	}{
		{"recovered rewind", []int64{1000, 1100, 900, 1200, 1100, 1250, 1200, 1300}, true, 0, StatusOK},
		{"unrecovered rewind", []int64{1000, 1100, 900, 1200, 950, 1250, 990, 1300}, true, 0, StatusRewind},
		{"two rewinds, recovered past the first high mark", []int64{1000, 1100, 900, 1200, 800, 1250, 1000, 1300, 1010, 1300}, true, 0, StatusOK},
		{"current lag 0 after a rewind", []int64{100, 100, 50, 100, 200, 200}, false, 0, StatusOK},
		{"end offsets stop being listed", []int64{5, 5, 5, -1, 5, -1, 5, -1}, false, 0, StatusUnknown},
		{"end offsets never listed", []int64{1, -1, 2, -1, 3, -1}, true, 0, StatusUnknown},
		{"lag known again after an unknown cycle", []int64{5, 5, 5, -1, 5, 5}, false, 0, StatusOK},
		{"idle transactional topic, 1 behind, no allowed lag", []int64{100, 101, 100, 101, 100, 101}, true, 0, StatusStall},
		{"idle transactional topic, allowed lag 1", []int64{100, 101, 100, 101, 100, 101}, true, 1, StatusOK},
		{"lag above the allowed lag", []int64{100, 103, 100, 104, 100, 105}, true, 2, StatusStall},
		{"within the allowed lag earlier in the window", []int64{100, 101, 100, 104, 100, 105}, false, 1, StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var samples []cycleSample
			for i := 0; i+1 < len(tt.pairs); i += 2 {
				samples = append(samples, cycleSample{at: int64(i/2+1) * 1e9, committed: tt.pairs[i], end: tt.pairs[i+1]})
			}
			if got := replay(samples, tt.owned, tt.allowed); got != tt.want {
				t.Fatalf("status %s, want %s", got, tt.want)
			}
		})
	}
}

// TestCommitsStopped checks the time rule over polls at a fixed interval: a
// consumer committing every cycle that stops is STOP (no owner) once its
// silence is longer than the history before its last commit, and a consumer
// that commits every 8 cycles of a 10-cycle window never is.
func TestCommitsStopped(t *testing.T) {
	const window = 10
	w := newPartWindow()
	var got []Status
	for c := int32(1); c <= 20; c++ {
		committed := int64(min(c, 10)) * 10 // commits stop after cycle 10
		w.observe(c, window, committed, 1000-committed+int64(c)*20, true, 0)
		got = append(got, w.status(everySecond, c, window, false, true, 0))
	}
	// At cycle c the window starts at c-9, so the history before the last
	// commit (cycle 10) is 19-c seconds and the silence c-10: until cycle 14
	// the consumer is falling behind (WARN), from cycle 15 it stopped.
	for c, s := range got[10:] {
		want := StatusWarn
		if c+11 >= 15 {
			want = StatusStop
		}
		if s != want {
			t.Fatalf("cycle %d: %s, want %s (all: %v)", c+11, s, want, got)
		}
	}
	slow := newPartWindow()
	for c := int32(1); c <= 40; c++ {
		committed := int64((c+7)/8) * 100 // a commit every 8 cycles
		slow.observe(c, window, committed, 1000+int64(c)*5-committed, true, 0)
		// Before its first commit the offset never moved (rule 7); after
		// it, the gap between commits (8 s) keeps the time rule quiet.
		if s := slow.status(everySecond, c, window, false, true, 0); c >= 9 && (s == StatusStop || s == StatusStall) {
			t.Fatalf("slow committer at cycle %d: %s", c, s)
		}
	}
}
