package lag

// partWindow summarizes a group partition's samples so that the status
// over the last W cycles needs no ring: for each event the rules look at, it
// keeps the last cycle it happened in, and an event is in the window when
// that cycle is. It costs 56 bytes per group partition whatever the window
// size.
//
// Commit recency comes from the samples themselves: a commit is seen in the
// cycle whose committed offset differs from the previous cycle's (see
// docs/lag.md, "Commit recency").
type partWindow struct {
	committed  int64 // committed offset of the last sample
	lag        int64 // lag of the last sample with a known end offset; -1 before one
	rewindHigh int64 // offset the group must commit again to recover from its pending rewind; -1 when none is pending
	first      int32 // cycle of the first sample; 0 when never sampled
	seen       int32 // cycle of the last sample
	moved      int32 // last cycle the committed offset went forward
	rewound    int32 // last cycle the committed offset went backwards
	prevChange int32 // cycle of the commit seen before the last one (the first sample's cycle before a second one); 0 when none
	caughtUp   int32 // last cycle the lag was within the allowed lag
	shrank     int32 // last cycle the lag was lower than the sample before
}

// newPartWindow returns the summary of a partition never sampled.
func newPartWindow() partWindow { return partWindow{lag: -1, rewindHigh: -1} }

// lastChange is the last cycle the committed offset changed; 0 when it
// never did while sampled.
func (w *partWindow) lastChange() int32 { return max(w.moved, w.rewound) }

// observe records the sample of cycle: the committed offset, and its lag
// when the end offset was known. allowed is the group's allowed lag; window
// the number of cycles in the status window.
func (w *partWindow) observe(cycle, window int32, committed, lag int64, lagKnown bool, allowed int64) {
	if w.rewindHigh >= 0 && w.rewound <= cycle-window {
		w.rewindHigh = -1 // the rewind left the window unrecovered: forgotten
	}
	if w.first == 0 {
		w.first = cycle
	} else if committed != w.committed {
		w.prevChange = w.lastChange()
		if w.prevChange == 0 {
			w.prevChange = w.first // the first sample's offset was committed then or earlier
		}
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
		if w.lag >= 0 && lag < w.lag {
			w.shrank = cycle
		}
		if lag <= allowed {
			w.caughtUp = cycle
		}
		w.lag = lag
	}
	w.committed, w.seen = committed, cycle
}

// clock returns the start time (unix nanoseconds) of a recent cycle; for a
// cycle older than it remembers, the time of the oldest one it does.
type clock func(cycle int32) int64

// status applies the Burrow rules, in order, to the window of the last
// window cycles ending at cycle (at gives cycle times):
//
//  1. the current lag is unknown (end offset not listed): UNKNOWN;
//  2. the current lag is within the allowed lag: OK;
//  3. fewer than two samples: OK (not enough data yet);
//  4. commits stopped: the last commit is older than the commit history
//     before it in the window (and than the gap between the last two
//     commits), and the lag was not within the allowed lag since: STOP, or
//     STALL when a member owns the partition;
//  5. the committed offset went backwards and has not come back: REWIND;
//  6. the lag was within the allowed lag at least once: OK;
//  7. the committed offset never moved: STALL when a member owns the
//     partition, STOP when none does;
//  8. the offset moved but the lag never decreased between two samples: WARN;
//  9. otherwise OK.
//
// A change between two samples counts as in the window when the later
// sample is and the earlier one is too, i.e. its cycle is after the
// window's first cycle.
func (w *partWindow) status(at clock, cycle, window int32, owned, lagKnown bool, allowed int64) Status {
	from := max(cycle-window+1, w.first) // first sample in the window
	switch {
	case w.first == 0:
		return StatusOK
	case !lagKnown:
		return StatusUnknown
	case w.lag <= allowed, from >= cycle:
		return StatusOK
	case w.stopped(at, cycle, window, from):
		return stopOrStall(owned)
	case w.rewindHigh >= 0 && w.rewound > from:
		return StatusRewind
	case w.caughtUp >= from:
		return StatusOK
	case w.moved <= from:
		return stopOrStall(owned)
	case w.shrank <= from:
		return StatusWarn
	}
	return StatusOK
}

// stopped is Burrow's time rule: the time since the last commit is longer
// than the commit history before it. It needs a commit seen (a change of the
// committed offset) and a full window of samples, and it does not apply when
// the lag was within the allowed lag after the last commit (Burrow #303: a
// consumer of an idle topic does not commit).
func (w *partWindow) stopped(at clock, cycle, window, from int32) bool {
	last := w.lastChange()
	switch {
	case last == 0 || w.first > cycle-window+1:
		return false
	case w.caughtUp > last && w.caughtUp >= from:
		return false
	case last <= from:
		return true
	}
	silent := at(cycle) - at(last)
	history := at(last) - at(from)
	if w.prevChange > 0 {
		history = max(history, at(last)-at(w.prevChange))
	}
	return silent > history
}

func stopOrStall(owned bool) Status {
	if owned {
		return StatusStall
	}
	return StatusStop
}
