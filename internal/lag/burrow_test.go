package lag

import (
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

// cycles translates a Burrow case independently of eventwatch's window
// model: one cycle per Burrow commit (at its timestamp, with its lag; an
// unknown lag is an end offset not listed), and a last cycle at the
// evaluation time with the current lag. Burrow knows no record
// timestamps, so the time lag is unknown (the status falls back to
// eventwatch's own sightings); the window covers every cycle.
func (bt burrowCase) cycles() []obs {
	var out []obs
	for _, c := range bt.commits {
		end := int64(-1)
		if c.lagKnown {
			end = c.offset + c.lag
		}
		out = append(out, obs{at: float64(c.ts) / 1e3, committed: c.offset, end: end, waited: -1})
	}
	last := bt.commits[len(bt.commits)-1]
	return append(out, obs{at: float64(bt.now), committed: last.offset, end: last.offset + bt.currentLag, waited: -1})
}

// burrowDiffers documents every case where eventwatch's status (default
// lag.stop_after of 60 s, no owner: Burrow knows no ownership) is not
// Burrow's, with the reason; docs/lag.md has the same table.
var burrowDiffers = map[int]struct {
	status Status
	why    string
}{
	0:  {StatusStop, "data has waited 100 s without the offset moving, longer than stop_after (60 s); Burrow compares the 100 s of silence with the 400 s of commit history instead"},
	1:  {StatusStop, "as case 0, after 400 s of silence"},
	4:  {StatusStop, "the offset never moved while data waited for 500 s; Burrow forgives the lag of 0 at the first commit"},
	7:  {StatusStop, "the consumer recovered its rewind, but has not moved for 100 s (> stop_after) while 300 records wait"},
	9:  {StatusOK, "the 931 waiting records were first seen at the evaluation itself and the consumer was caught up inside the window: nothing has waited stop_after yet; STOP 60 s later (TestBurrowIssue290 on a cluster)"},
	5:  {StatusStop, "no member owns the partition: STOP; with an owner STALL, as Burrow (eventwatch cannot see re-commits of the same offset, so it tells the two apart by ownership)"},
	6:  {StatusStop, "as case 5"},
	13: {StatusStop, "as case 5"},
	14: {StatusStop, "as case 7"},
	15: {StatusStop, "the unrecovered rewind is older than stop_after and nothing moved since: stopped wins over rewound"},
}

// TestBurrowEvaluatorTable replays the 16 cases of Burrow's evaluator
// table, translated independently (cycles), through eventwatch's status,
// not owned (STOP) and owned (STALL where Burrow says STOP or STALL), and
// checks each against Burrow's status or the documented difference.
func TestBurrowEvaluatorTable(t *testing.T) {
	if len(burrowTests) != 16 {
		t.Fatalf("%d Burrow cases, want 16", len(burrowTests))
	}
	agree := 0
	for i, bt := range burrowTests {
		want := bt.want
		if d, ok := burrowDiffers[i]; ok {
			want = d.status
		}
		j := judge{window: int32(len(bt.cycles())), allowed: bt.allowedLag, stopAfter: 60}
		got := j.last(bt.cycles())
		if got != want {
			t.Errorf("case %d: %s, want %s (Burrow %s)", i, got, want, bt.want)
		}
		if got == bt.want {
			agree++
		}
		j.owned = true
		if owned := j.last(bt.cycles()); owned != stallIfStopped(want) {
			t.Errorf("case %d owned: %s, want %s", i, owned, stallIfStopped(want))
		}
	}
	if agree != 16-len(burrowDiffers) {
		t.Errorf("%d cases agree with Burrow, the table documents %d differences", agree, len(burrowDiffers))
	}
}

func stallIfStopped(s Status) Status {
	if s == StatusStop {
		return StatusStall
	}
	return s
}

// TestIssueProbes covers the defects issue 14 found: recovered rewinds,
// current lag 0, unknown lag and allowed lag. Samples are (committed, end)
// per cycle, 15 s apart.
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
		{"two rewinds, recovered past the first high mark", []int64{1000, 1100, 900, 1100, 800, 1100, 1000, 1100, 1010, 1100}, true, 0, StatusOK},
		{"current lag 0 after a rewind", []int64{100, 100, 50, 100, 200, 200}, false, 0, StatusOK},
		{"end offsets stop being listed", []int64{5, 5, 5, -1, 5, -1, 5, -1}, false, 0, StatusUnknown},
		{"end offsets never listed", []int64{1, -1, 2, -1, 3, -1}, true, 0, StatusUnknown},
		{"lag known again after an unknown cycle", []int64{5, 5, 5, -1, 5, 5}, false, 0, StatusOK},
		{"idle transactional topic, 1 behind, no allowed lag", []int64{100, 101, 100, 101, 100, 101, 100, 101, 100, 101, 100, 101}, true, 0, StatusStall},
		{"idle transactional topic, allowed lag 1", []int64{100, 101, 100, 101, 100, 101, 100, 101, 100, 101, 100, 101}, true, 1, StatusOK},
		{"lag above the allowed lag", []int64{100, 103, 100, 104, 100, 105, 100, 105, 100, 105, 100, 105}, true, 2, StatusStall},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var samples []obs
			for i := 0; i+1 < len(tt.pairs); i += 2 {
				samples = append(samples, obs{at: float64(i/2) * 15, committed: tt.pairs[i], end: tt.pairs[i+1], waited: -1})
			}
			j := judge{window: 10, owned: tt.owned, allowed: tt.allowed, stopAfter: 60}
			if got := j.last(samples); got != tt.want {
				t.Fatalf("status %s, want %s", got, tt.want)
			}
		})
	}
}
