package lag

import (
	"encoding/json"
	"fmt"
)

// Status is a consumer group's or partition's health over the sliding
// window, with Burrow's semantics (see docs/lag.md).
type Status uint8

// Statuses, from best to worst for a partition. A group is OK, WARN or ERR;
// when it is ERR, the group also reports which partition status caused it.
const (
	StatusOK     Status = iota // caught up at least once in the window, or progressing and lag shrinking
	StatusWarn                 // committing, but lag never shrank over the window: falling behind
	StatusRewind               // the committed offset moved backwards in the window (reset or replay)
	StatusStall                // a member owns the partition but the committed offset did not move while lag > 0
	StatusStop                 // nobody owns the partition and the committed offset did not move while lag > 0
	StatusErr                  // group level only: at least one partition is REWIND, STALL or STOP
)

// AllStatuses lists every status in exposition order.
var AllStatuses = []Status{StatusOK, StatusWarn, StatusErr, StatusStop, StatusStall, StatusRewind}

var statusNames = [...]string{"OK", "WARN", "REWIND", "STALL", "STOP", "ERR"}

// String returns the status name, e.g. "STALL".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", s)
}

// MarshalJSON encodes the status as its name.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// partWindow summarizes a group partition's samples so that the status
// over the last W cycles needs no ring: for each event the rules look at, it
// keeps the last cycle it happened in, and an event is in the window when
// that cycle is. It costs 40 bytes per group partition whatever the window size.
type partWindow struct {
	committed int64 // committed offset of the last sample
	lag       int64 // lag of the last sample with a known end offset; -1 before one
	first     int32 // cycle of the first sample; 0 when never sampled
	seen      int32 // cycle of the last sample
	moved     int32 // last cycle the committed offset went forward
	rewound   int32 // last cycle the committed offset went backwards
	caughtUp  int32 // last cycle the lag was 0
	shrank    int32 // last cycle the lag was lower than the sample before
}

// newPartWindow returns the summary of a partition never sampled.
func newPartWindow() partWindow { return partWindow{lag: -1} }

// observe records the sample of cycle: the committed offset, and its lag
// when the end offset was known.
func (w *partWindow) observe(cycle int32, committed, lag int64, lagKnown bool) {
	if w.first == 0 {
		w.first = cycle
	} else {
		switch {
		case committed < w.committed:
			w.rewound = cycle
		case committed > w.committed:
			w.moved = cycle
		}
	}
	if lagKnown {
		if w.lag >= 0 && lag < w.lag {
			w.shrank = cycle
		}
		if lag == 0 {
			w.caughtUp = cycle
		}
		w.lag = lag
	}
	w.committed, w.seen = committed, cycle
}

// status applies the Burrow rules to the samples of the window of the last
// window cycles ending at cycle:
//
//  1. fewer than two samples: OK (not enough data yet);
//  2. the committed offset went backwards: REWIND;
//  3. a lag of zero anywhere in the window: OK;
//  4. the committed offset never moved (lag > 0 throughout): STALL when a
//     member owns the partition, STOP when none does;
//  5. the offset moved but the lag never decreased from one sample to the
//     next: WARN;
//  6. otherwise OK.
//
// A change between two samples counts as in the window when the later
// sample is and the earlier one is too, i.e. its cycle is after the
// window's first cycle.
func (w *partWindow) status(cycle, window int32, owned bool) Status {
	from := max(cycle-window+1, w.first) // first sample in the window
	switch {
	case w.first == 0 || from >= cycle:
		return StatusOK
	case w.rewound > from:
		return StatusRewind
	case w.caughtUp >= from:
		return StatusOK
	case w.moved <= from && owned:
		return StatusStall
	case w.moved <= from:
		return StatusStop
	case w.shrank <= from:
		return StatusWarn
	}
	return StatusOK
}

// statusCounts tallies partition statuses for a group.
type statusCounts [StatusErr]int

// groupStatus folds partition statuses into the group's status and the
// partition status that explains it: ERR with the most severe of STOP,
// STALL, REWIND; else WARN if any partition warns; else OK.
func (c *statusCounts) groupStatus() (group, cause Status) {
	for _, s := range []Status{StatusStop, StatusStall, StatusRewind} {
		if c[s] > 0 {
			return StatusErr, s
		}
	}
	if c[StatusWarn] > 0 {
		return StatusWarn, StatusWarn
	}
	return StatusOK, StatusOK
}

// why explains a group status in one sentence for people.
func why(group, cause Status, c *statusCounts, total, window int, example string) string {
	n := c[cause]
	switch {
	case total == 0:
		return "no committed offsets on watched topics"
	case group == StatusOK && c[StatusOK] == total:
		return fmt.Sprintf("all %d partitions caught up or catching up over the last %d cycles", total, window)
	}
	var what string
	switch cause {
	case StatusStop:
		what = "have lag and no commit progress, and no member owns them (consumer stopped)"
	case StatusStall:
		what = "have lag and no commit progress although a member owns them (consumer stalled)"
	case StatusRewind:
		what = "had their committed offset move backwards (offset reset or replay)"
	case StatusWarn:
		what = "are committing but their lag never shrank (consumer falling behind)"
	}
	s := fmt.Sprintf("%d of %d partitions %s over the last %d cycles", n, total, what, window)
	if example != "" {
		s += "; e.g. " + example
	}
	return s
}
