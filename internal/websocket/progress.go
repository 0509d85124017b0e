package websocket

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// setCurrent publishes the probe in progress (nil when it ended), so the
// status shows what it found before its listen window is over.
func (t *target) setCurrent(r *probeRun) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.current = r
}

// partial is a copy of what the probe in progress found so far: the
// endpoint check, the connection attempts done, the messages audited and
// the violations found. Success and compliance are not decided and the
// heartbeat is not judged until the probe ends.
func (r *probeRun) partial(now time.Time) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := *r.res
	c.Duration = now.Sub(c.Started).Seconds()
	c.Success, c.Compliant, c.Close = false, false, nil
	c.Auth.Invalid = slices.Clone(c.Auth.Invalid)
	c.Violations = slices.Clone(c.Violations)
	c.ViolationsByRule = maps.Clone(c.ViolationsByRule)
	listen := r.window
	c.Heartbeat = Heartbeat{Verdict: HeartbeatNotJudged,
		Detail: fmt.Sprintf("probe in progress: judged at the end of the %s listen window; %d heartbeats so far", listen, len(r.beats))}
	return &c
}
