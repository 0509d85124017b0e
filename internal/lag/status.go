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

// isError reports whether a partition status makes its group ERR.
func (s Status) isError() bool { return s == StatusRewind || s == StatusStall || s == StatusStop }

// sample is one observation of a group partition in the window.
type sample struct {
	committed int64
	lag       int64
}

// partitionStatus applies the Burrow rules to one partition's window,
// oldest sample first:
//
//  1. fewer than two samples: OK (not enough data yet);
//  2. a committed offset lower than the one before: REWIND;
//  3. a lag of zero anywhere in the window: OK;
//  4. the committed offset never moved (lag > 0 throughout): STALL when a
//     member owns the partition, STOP when none does;
//  5. the offset moved but the lag never decreased between two samples: WARN;
//  6. otherwise OK.
func partitionStatus(w []sample, owned bool) Status {
	if len(w) < 2 {
		return StatusOK
	}
	for i := 1; i < len(w); i++ {
		if w[i].committed < w[i-1].committed {
			return StatusRewind
		}
	}
	for _, s := range w {
		if s.lag == 0 {
			return StatusOK
		}
	}
	if w[0].committed == w[len(w)-1].committed {
		if owned {
			return StatusStall
		}
		return StatusStop
	}
	for i := 1; i < len(w); i++ {
		if w[i].lag < w[i-1].lag {
			return StatusOK
		}
	}
	return StatusWarn
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
