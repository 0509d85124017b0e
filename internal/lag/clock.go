package lag

import (
	"math"
	"time"
)

// A group's figures that grow with time alone — its time lag, how long
// data has waited, the time to loss, the seconds above the objective and
// the durations in its why sentence — are functions of anchors
// (timestamps) and of the time they are read at. The collector keeps the
// anchors beside the figures (a anchors) and computes every figure through
// the anchors' functions at the cycle's time, so a page rendered from the
// anchors at that time (RenderGroupTemplate) is byte for byte the
// collector's. The share path publishes a group's anchors, not its
// figures: a stopped group then changes only when its facts do, not every
// cycle (docs/performance/lag.md).

// How anchors' time lag is computed.
const (
	lagFixed     uint8 = iota // fixed: 0 (nothing waits) or NaN (unknown)
	lagExact                  // now minus the first unread record's timestamp (ms)
	lagEstimated              // now minus its interpolated append time (ns, fractional)
	lagSeeded                 // now minus the one seeded point's time (ns)
)

// How anchors' waiting time is computed (partWindow.noProgress).
const (
	waitNone  uint8 = iota // nothing waits: 0
	waitLag                // the time lag, no longer than since the offset moved
	waitSince              // since the wait began, no longer than since the offset moved
)

// How anchors' time to loss is computed (Collector.timeToLoss).
const (
	ttlFixed     uint8 = iota // the size-based figure alone (NaN when none)
	ttlRetention              // retention minus the time lag, or the size-based figure when sooner
)

// anchors is what a partition's time-derived figures are functions of.
type anchors struct {
	lag, wait, ttl uint8
	fixed          float64 // lagFixed: the lag (0 or NaN)
	at             int64   // lagExact: timestamp (unix ms); lagSeeded: the point's time (unix ns)
	est            float64 // lagEstimated: interpolated append time (unix ns)
	moved          int64   // waitLag, waitSince: when the offset last moved (unix ns)
	since          int64   // waitSince: when the wait began (unix ns)
	ret            float64 // ttlRetention: retention in seconds
	size           float64 // the size-based time to loss; NaN when none
}

// lagAt is the time lag at now (unix ns).
func (c *anchors) lagAt(now int64) Seconds {
	switch c.lag {
	case lagExact:
		return Seconds(max(float64(unixMilli(now)-c.at)/1e3, 0))
	case lagEstimated:
		return Seconds(math.Max(0, (float64(now)-c.est)/1e9))
	case lagSeeded:
		return Seconds(math.Max(0, float64(now-c.at)/1e9))
	}
	return Seconds(c.fixed)
}

// unixMilli is time.Unix(0, ns).UnixMilli().
func unixMilli(ns int64) int64 { return time.Unix(0, ns).UnixMilli() }

// waitingAt is how long data has waited without progress at now, in
// nanoseconds (partWindow.noProgress).
func (c *anchors) waitingAt(now int64) int64 {
	sinceMoved := now - c.moved
	switch c.wait {
	case waitLag:
		return max(min(int64(float64(c.lagAt(now))*1e9), sinceMoved), 0)
	case waitSince:
		return max(min(now-c.since, sinceMoved), 0)
	}
	return 0
}

// waitingSecondsAt is waitingAt in seconds (PartitionLag.WaitingSeconds).
func (c *anchors) waitingSecondsAt(now int64) Seconds {
	return Seconds(float64(c.waitingAt(now)) / 1e9)
}

// ttlAt is the time to loss at now (Collector.timeToLoss).
func (c *anchors) ttlAt(now int64) Seconds {
	ttl := math.NaN()
	if c.ttl == ttlRetention {
		if l := c.lagAt(now); l.Known() {
			ttl = math.Max(c.ret-float64(l), 0)
		}
	}
	if !math.IsNaN(c.size) && (math.IsNaN(ttl) || c.size < ttl) {
		ttl = c.size
	}
	return Seconds(ttl)
}

// findingAt is a finding's waiting time at now for a partition in status
// s (findingWait).
func (c *anchors) findingAt(s Status, now int64) Seconds {
	if s == StatusStop || s == StatusStall {
		return c.waitingSecondsAt(now)
	}
	if l := c.lagAt(now); l.Known() {
		return l
	}
	return 0
}

// breachClock is a group's time above the lag objective: base seconds
// before its current breach, plus the time since that breach began
// (since, unix ns; 0 when the group is not above the objective now).
type breachClock struct {
	base  float64
	since int64
}

func (b breachClock) at(now int64) float64 {
	if b.since == 0 {
		return b.base
	}
	return b.base + float64(now-b.since)/1e9
}

// whyClock is a group's why sentence: pre, then (when hole is not
// whyNone) a duration of the example partition's anchors, then post.
type whyClock struct {
	pre, post string
	hole      uint8
	c         anchors
}

// Durations in a why sentence.
const (
	whyNone    uint8 = iota
	whyLag           // the example's time lag ("oldest unread record 5m0s old")
	whyWaiting       // how long the example waited ("waiting 5m0s without progress")
)

// duration is the hole's text at now ("" without one).
func (w *whyClock) duration(now int64) string {
	switch w.hole {
	case whyLag:
		return roundSeconds(float64(w.c.lagAt(now)))
	case whyWaiting:
		return roundSeconds(float64(w.c.waitingSecondsAt(now)))
	}
	return ""
}

func (w *whyClock) at(now int64) string { return w.pre + w.duration(now) + w.post }

// unknownClock is the anchors of an unknown time lag and time to loss.
var unknownClock = anchors{lag: lagFixed, fixed: math.NaN(), ttl: ttlFixed, size: math.NaN()}
