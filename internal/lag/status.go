package lag

import (
	"fmt"
)

// Status is a consumer group's or partition's health, judged from what the
// broker shows (docs/lag.md, "Status from evidence"): whether data waits,
// how long the oldest waiting record has waited, whether the committed
// offset advances, whether a member owns the partition, and whether the lag
// grows.
type Status uint8

// Statuses of a partition, and of a group. A group is OK, WARN, ERR or
// UNKNOWN; when it is ERR, the group also reports which partition status
// caused it.
const (
	StatusOK      Status = iota // caught up (lag within the allowed lag), or consuming without the lag growing
	StatusWarn                  // advancing, but the lag grew over the window (falling behind), or waiting while its member works on other partitions
	StatusRewind                // the committed offset moved backwards in the window and has not come back to where it was
	StatusStall                 // a member owns the partition, the offset has not moved while data waited longer than lag.stop_after, and that member advanced nothing else
	StatusStop                  // no member owns the partition and the offset has not moved while data waited longer than lag.stop_after
	StatusErr                   // group level only: at least one partition is REWIND, STALL or STOP
	StatusUnknown               // the current lag is unknown: the end offset could not be listed this cycle
)

// AllStatuses lists every status in exposition order.
var AllStatuses = []Status{StatusOK, StatusWarn, StatusErr, StatusStop, StatusStall, StatusRewind, StatusUnknown}

var statusNames = [...]string{"OK", "WARN", "REWIND", "STALL", "STOP", "ERR", "UNKNOWN"}

// severity orders partition statuses from best to worst: an unknown lag is
// worse than OK and better than any finding.
var severity = [...]int{StatusOK: 0, StatusUnknown: 1, StatusWarn: 2, StatusRewind: 3, StatusStall: 4, StatusStop: 5, StatusErr: 6}

// Stalled reports whether s is STALL: a member owns the partition and its
// committed offset has not moved while data waited longer than
// lag.stop_after (a hung consumer or a poison pill). Code that acts on
// stalled partitions (e.g. reading the record at the committed offset)
// should test this rather than compare names.
func (s Status) Stalled() bool { return s == StatusStall }

// Stopped reports whether s is STOP: nobody owns the partition and its
// committed offset has not moved while data waited longer than
// lag.stop_after.
func (s Status) Stopped() bool { return s == StatusStop }

// String returns the status name, e.g. "STALL".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", s)
}

// MarshalText encodes the status as its name (a JSON string; text, not
// JSON, so that encoding/json neither marshals the name again nor
// re-validates it: a groups page has tens of thousands of statuses).
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// statusCounts tallies partition statuses for a group.
type statusCounts [StatusUnknown + 1]int

// groupStatus folds partition statuses into the group's status and the
// partition status that explains it: ERR with the most severe of STOP,
// STALL, REWIND; else WARN if any partition warns; else UNKNOWN when no
// partition's lag is known; else OK.
func (c *statusCounts) groupStatus() (group, cause Status) {
	for _, s := range []Status{StatusStop, StatusStall, StatusRewind} {
		if c[s] > 0 {
			return StatusErr, s
		}
	}
	switch {
	case c[StatusWarn] > 0:
		return StatusWarn, StatusWarn
	case c[StatusUnknown] > 0 && c[StatusOK] == 0:
		return StatusUnknown, StatusUnknown
	}
	return StatusOK, StatusOK
}

// why explains a group status in one sentence for people; turn is how
// many of the WARN partitions wait their turn (the others fall behind).
func why(group, cause Status, c *statusCounts, turn, total, window int, example *whyClock) whyClock {
	n := c[cause]
	unknown := c[StatusUnknown]
	var w whyClock
	switch {
	case total == 0:
		return whyClock{pre: "no committed offsets on watched topics"}
	case group == StatusUnknown:
		return whyClock{pre: fmt.Sprintf("lag of all %d partitions unknown: their end offsets could not be listed this cycle", total)}
	case group == StatusOK && c[StatusOK] == total:
		return whyClock{pre: fmt.Sprintf("all %d partitions caught up or keeping up over the last %d cycles", total, window)}
	case group == StatusOK:
		w.pre = fmt.Sprintf("%d of %d partitions caught up or keeping up over the last %d cycles", c[StatusOK], total, window)
	case cause == StatusWarn:
		w.pre = warnText(n-turn, turn, total) + fmt.Sprintf(" over the last %d cycles", window)
		w.withExample(example)
	default:
		w.pre = fmt.Sprintf("%d of %d partitions %s over the last %d cycles", n, total, causeText(cause), window)
		w.withExample(example)
	}
	if unknown > 0 {
		w.post += fmt.Sprintf("; lag of %d unknown (end offsets not listed)", unknown)
	}
	return w
}

// withExample appends "; e.g. " and the example (nil: none) to w, which
// has no duration yet.
func (w *whyClock) withExample(ex *whyClock) {
	if ex == nil || ex.pre == "" && ex.hole == whyNone && ex.post == "" {
		return
	}
	w.pre += "; e.g. " + ex.pre
	w.hole, w.c, w.post = ex.hole, ex.c, ex.post
}

// warnText says which WARN partitions fall behind and which wait their
// turn.
func warnText(behind, turn, total int) string {
	const behindText = "are consuming but their lag grew (consumer falling behind)"
	const turnText = "wait their turn (not moving while their member advances other partitions)"
	switch {
	case turn == 0:
		return fmt.Sprintf("%d of %d partitions %s", behind, total, behindText)
	case behind == 0:
		return fmt.Sprintf("%d of %d partitions %s", turn, total, turnText)
	}
	return fmt.Sprintf("%d of %d partitions %s and %d %s", behind, total, behindText, turn, turnText)
}

func causeText(cause Status) string {
	switch cause {
	case StatusStop:
		return "have data waiting longer than lag.stop_after, no commit progress, and no member owns them (consumer stopped)"
	case StatusStall:
		return "have data waiting longer than lag.stop_after and no commit progress although a member owns them (consumer stalled)"
	case StatusRewind:
		return "had their committed offset move backwards and not come back (offset reset or replay)"
	}
	return "are consuming but their lag grew (consumer falling behind)"
}

// worse returns the more severe of two partition statuses.
func worse(a, b Status) Status {
	if severity[b] > severity[a] {
		return b
	}
	return a
}
