package lag

// partWindow summarizes a group partition's samples so that its status
// needs no ring of samples: the last committed offset and lag, the cycles
// of the events the status looks at (the offset moving forward or
// backwards, data starting to wait), and two anchors — (cycle, committed
// offset) pairs between half a window and a window old — from which the
// consumption rate and the growth of the lag over the window are read. It
// costs 80 bytes per group partition whatever the window size.
//
// Commit recency comes from the samples themselves: a commit is seen in the
// cycle whose committed offset differs from the previous cycle's (see
// docs/lag.md, "Commit recency").
type partWindow struct {
	committed   int64 // committed offset of the last sample
	lag         int64 // lag of the last sample with a known end offset; -1 before one
	rewindHigh  int64 // offset the group must commit again to recover from its pending rewind; -1 when none is pending
	a0Committed int64 // committed offset at cycle a0 (the older anchor)
	a1Committed int64 // committed offset at cycle a1 (the newer anchor)
	lossHigh    int64 // records below this offset were already counted as lost to retention
	first       int32 // cycle of the first sample; 0 when never sampled
	seen        int32 // cycle of the last sample
	moved       int32 // last cycle the committed offset went forward
	rewound     int32 // last cycle the committed offset went backwards
	since       int32 // first cycle of the current wait: data waiting (lag above the allowed lag) and the offset not moving; 0 when not waiting
	a0, a1      int32 // cycles of the two anchors; 0 before the first sample
	caughtUp    int32 // last cycle the lag was within the allowed lag
}

// newPartWindow returns the summary of a partition never sampled.
func newPartWindow() partWindow { return partWindow{lag: -1, rewindHigh: -1} }

// lastChange is the last cycle the committed offset changed; 0 when it
// never did while sampled.
func (w *partWindow) lastChange() int32 { return max(w.moved, w.rewound) }

// lastAdvance is the last cycle from which the committed offset is known
// not to have moved: its last change, or the first sample.
func (w *partWindow) lastAdvance() int32 { return max(w.lastChange(), w.first) }

// observe records the sample of cycle: the committed offset, and its lag
// when the end offset was known. allowed is the group's allowed lag; window
// the number of cycles in the status window.
func (w *partWindow) observe(cycle, window int32, committed, lag int64, lagKnown bool, allowed int64) {
	if w.rewindHigh >= 0 && w.rewound <= cycle-window {
		w.rewindHigh = -1 // the rewind left the window unrecovered: forgotten
	}
	changed := false
	if w.first == 0 {
		w.first = cycle
	} else if committed != w.committed {
		changed = true
		if committed < w.committed {
			w.rewindHigh = max(w.rewindHigh, w.committed)
			w.rewound = cycle
		} else {
			w.moved = cycle
			if w.rewindHigh >= 0 && committed >= w.rewindHigh {
				w.rewindHigh = -1 // back where it was before the rewind: recovered
			}
		}
	}
	if lagKnown {
		switch {
		case lag <= allowed:
			w.since, w.caughtUp = 0, cycle
		case w.since == 0 || changed:
			w.since = cycle
		}
		w.lag = lag
	}
	w.anchor(cycle, window, committed)
	w.committed, w.seen = committed, cycle
}

// anchor keeps the two anchors: every half window the newer one becomes
// the older one and the current sample the newer one, so the older anchor
// is between half a window and a window old (or the first sample).
func (w *partWindow) anchor(cycle, window int32, committed int64) {
	half := max(window/2, 1)
	switch {
	case w.a1 == 0:
		w.a0, w.a0Committed = cycle, committed
		w.a1, w.a1Committed = cycle, committed
	case cycle-w.a1 >= half:
		w.a0, w.a0Committed = w.a1, w.a1Committed
		w.a1, w.a1Committed = cycle, committed
	}
}

// clock returns the start time (unix nanoseconds) of a recent cycle; for a
// cycle older than it remembers, the time of the oldest one it does.
type clock func(cycle int32) int64

// evidence is what the broker shows about a group partition in one cycle,
// besides its window summary.
type evidence struct {
	at        clock
	cycle     int32
	window    int32
	lagKnown  bool  // the end offset was listed this cycle
	owned     bool  // a member of the group is assigned the partition
	allowed   int64 // the group's allowed lag
	stopAfter int64 // nanoseconds data may wait without progress before STOP or STALL
	// waited is the age of the oldest waiting record (the time lag) in
	// nanoseconds; negative when unknown.
	waited int64
	// ownerMoved is the last cycle the member owning the partition (or,
	// when assignments cannot be decoded, any member of the group) moved
	// a committed offset forward on any partition; 0 when never seen.
	ownerMoved int32
	// endThen is the end offset at the older anchor's cycle; negative when
	// it was not listed then.
	endThen int64
	end     int64 // this cycle's end offset
}

// Reasons explain a partition status (PartitionLag.Reason).
const (
	ReasonLagUnknown    = "lag unknown"       // UNKNOWN: the end offset could not be listed
	ReasonCaughtUp      = "caught up"         // OK: lag within the allowed lag
	ReasonNewPartition  = "first sample"      // OK: not enough samples to judge progress yet
	ReasonCatchingUp    = "keeping up"        // OK: the lag did not grow over the window
	ReasonFallingBehind = "falling behind"    // WARN: the offset advances but the lag grew over the window
	ReasonWaitingTurn   = "waiting its turn"  // WARN: owned, not moving, but its member advances on other partitions
	ReasonStalled       = "stalled"           // STALL: owned, not moving while data waited longer than lag.stop_after
	ReasonStopped       = "stopped"           // STOP: no owner, not moving while data waited longer than lag.stop_after
	ReasonRewound       = "offset moved back" // REWIND: the offset went backwards and has not come back
	ReasonNotSampled    = "not sampled"       // OK: no sample of this partition yet
)

// noProgress is how long (nanoseconds) data has waited on the partition
// while its committed offset did not move: the age of the oldest waiting
// record (when known), but no longer than since the offset last moved or
// eventwatch first saw it; from eventwatch's own samples when the age is
// unknown. 0 when nothing waits.
func (w *partWindow) noProgress(e *evidence) int64 {
	if !e.lagKnown || w.lag <= e.allowed || w.since == 0 {
		return 0
	}
	now := e.at(e.cycle)
	sinceMoved := now - e.at(w.lastAdvance())
	if e.waited >= 0 {
		return max(min(e.waited, sinceMoved), 0)
	}
	return max(min(now-e.at(w.since), sinceMoved), 0)
}

// waitClock sets how c computes noProgress at any time (clock.waitingAt,
// the same function of the same anchors): when the offset last moved,
// when the wait began, and whether the time lag (c's, set before; the
// evidence's waited) bounds it.
func (w *partWindow) waitClock(e *evidence, c *anchors) {
	c.wait = waitNone
	if !e.lagKnown || w.lag <= e.allowed || w.since == 0 {
		return
	}
	c.moved = e.at(w.lastAdvance())
	if e.waited >= 0 {
		c.wait = waitLag
		return
	}
	c.wait, c.since = waitSince, e.at(w.since)
}

// status judges the partition from the evidence, in order:
//
//  1. the end offset could not be listed: UNKNOWN;
//  2. no lag beyond the allowed lag: OK (caught up), for ever on an idle topic;
//  3. data has waited longer than stop_after while the offset did not move:
//     STOP when no member owns the partition; STALL when one does and that
//     member (or, without decodable assignments, the group) moved no
//     offset forward in that time either; WARN ("waiting its turn") when
//     its member is busy advancing other partitions;
//  4. the offset went backwards in the window and has not come back: REWIND;
//  5. the lag grew over the window (between the older anchor and now): WARN;
//  6. otherwise OK (catching up, or not enough samples to judge yet).
//
// The thresholds are times, not commit cadences, so a steady slow consumer
// keeps one status sample after sample.
func (w *partWindow) status(e *evidence) (Status, string) {
	switch {
	case w.first == 0:
		return StatusOK, ReasonNotSampled
	case !e.lagKnown:
		return StatusUnknown, ReasonLagUnknown
	case w.lag <= e.allowed:
		return StatusOK, ReasonCaughtUp
	}
	stuck := w.noProgress(e)
	if stuck >= e.stopAfter {
		switch {
		case !e.owned:
			return StatusStop, ReasonStopped
		case e.ownerMoved > w.lastAdvance() && e.at(e.cycle)-e.at(e.ownerMoved) < e.stopAfter:
			return StatusWarn, ReasonWaitingTurn
		}
		return StatusStall, ReasonStalled
	}
	switch {
	case w.rewindHigh >= 0 && w.rewound > e.cycle-e.window:
		return StatusRewind, ReasonRewound
	case w.a0 == e.cycle:
		return StatusOK, ReasonNewPartition
	case w.fallingBehind(e):
		return StatusWarn, ReasonFallingBehind
	}
	return StatusOK, ReasonCatchingUp
}

// fallingBehind reports whether the consumer falls behind: its lag stayed
// above the allowed lag at every sample since the older anchor, and it
// consumed less than 95 % of what was produced in that span (the lag grew
// by more than 5 % of the records produced, and by at least two). The
// margin keeps a healthy consumer of a busy topic, whose lag wobbles by a
// few records from sample to sample, from flipping between OK and WARN; a
// consumer that catches up now and then is not falling behind.
func (w *partWindow) fallingBehind(e *evidence) bool {
	if e.endThen < 0 || e.end < 0 || w.caughtUp >= w.a0 {
		return false
	}
	produced := e.end - e.endThen
	growth := produced - (w.committed - w.a0Committed)
	return growth >= 2 && growth*20 > produced
}

// rates returns the records consumed and produced per second between the
// older anchor and now; ok is false when the span is empty or the end
// offset then is unknown.
func (w *partWindow) rates(e *evidence) (consumed, produced float64, ok bool) {
	if w.a0 == 0 || w.a0 >= e.cycle || e.endThen < 0 || e.end < 0 {
		return 0, 0, false
	}
	span := float64(e.at(e.cycle)-e.at(w.a0)) / 1e9
	if span <= 0 {
		return 0, 0, false
	}
	return float64(max(w.committed-w.a0Committed, 0)) / span, float64(max(e.end-e.endThen, 0)) / span, true
}

// lost counts the records deleted below the committed offset (committed <
// start) not counted before, and remembers them as counted: each lost range
// is counted once, however many cycles see it.
func (w *partWindow) lost(start int64) int64 {
	if start < 0 || w.committed >= start {
		return 0
	}
	from := max(w.committed, w.lossHigh)
	if from >= start {
		return 0
	}
	w.lossHigh = start
	return start - from
}
