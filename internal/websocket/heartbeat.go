package websocket

import (
	"fmt"
	"time"
)

// judgeHeartbeat fills h's verdict from the heartbeat times seen between
// opened and ended, against interval plus tolerance. A gap is the silence
// between two heartbeats, or between the connection opening (or the window
// ending) and the nearest heartbeat: a server whose first heartbeat comes
// later than the limit after the upgrade is late too.
func judgeHeartbeat(h *Heartbeat, beats []time.Time, opened, ended time.Time, interval, tolerance time.Duration) {
	h.ExpectedSec, h.ToleranceSec = interval.Seconds(), tolerance.Seconds()
	window := ended.Sub(opened)
	h.ListenedSec = window.Seconds()
	if interval <= 0 {
		h.Verdict, h.Detail = HeartbeatUnchecked, "the profile sets no heartbeat interval"
		return
	}
	limit := interval + tolerance
	if len(beats) == 0 {
		if window < limit {
			h.Verdict = HeartbeatNotJudged
			h.Detail = fmt.Sprintf("no heartbeat in %s, shorter than the %s limit: listen longer to judge", round(window), limit)
			return
		}
		h.Verdict, h.MaxGapSec = HeartbeatMissing, window.Seconds()
		h.Detail = fmt.Sprintf("no heartbeat (ping frame or heartbeat message) in %s; expected one every %s (± %s)", round(window), interval, tolerance)
		return
	}
	maxGap := beats[0].Sub(opened)
	for i := 1; i < len(beats); i++ {
		g := beats[i].Sub(beats[i-1])
		h.GapsSec = append(h.GapsSec, g.Seconds())
		maxGap = max(maxGap, g)
	}
	maxGap = max(maxGap, ended.Sub(beats[len(beats)-1]))
	h.MaxGapSec = maxGap.Seconds()
	if maxGap > limit {
		h.Verdict = HeartbeatLate
		h.Detail = fmt.Sprintf("%d heartbeats; the longest silence was %s, more than %s (± %s)", len(beats), round(maxGap), interval, tolerance)
		return
	}
	h.Verdict = HeartbeatOK
	h.Detail = fmt.Sprintf("%d heartbeats; the longest silence was %s, within %s (± %s)", len(beats), round(maxGap), interval, tolerance)
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
