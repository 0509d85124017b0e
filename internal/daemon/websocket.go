package daemon

import (
	"maps"
	"slices"
	"time"

	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/websocket"
)

// webSockets is the weekly report's WebSocket section: every probed
// endpoint as the prober sees it now.
func (d *daemon) webSockets() []report.WebSocketEndpoint {
	if d.ws == nil {
		return nil
	}
	var out []report.WebSocketEndpoint
	for _, s := range d.ws.Snapshot() {
		out = append(out, reportEndpoint(s))
	}
	return out
}

func reportEndpoint(s websocket.Status) report.WebSocketEndpoint {
	e := report.WebSocketEndpoint{Service: s.Service, Target: s.Target, URL: s.URL, Profile: s.Profile,
		Probes: s.Totals.Probes, Failures: s.Totals.Failures, MessagesAudited: s.Totals.MessagesAudited,
		Heartbeat: "not probed yet"}
	last := s.Last
	if last != nil {
		started := last.Started
		e.LastProbe, e.Success, e.Compliant, e.Error = &started, last.Success, last.Compliant, last.Error
		e.Heartbeat, e.PingAnswered, e.LastViolations = last.Heartbeat.Verdict+": "+last.Heartbeat.Detail, last.Heartbeat.PingAnswered, last.ViolationsByRule
	}
	counts := maps.Clone(s.Totals.ViolationsByRule)
	if in := s.InProgress; in != nil {
		if last == nil { // the first probe is listening: what it found so far
			e.FirstProbeInProgress, e.Heartbeat, e.LastViolations = true, in.Heartbeat.Detail, in.ViolationsByRule
		}
		for rule, n := range in.ViolationsByRule {
			counts[rule] += int64(n)
		}
	}
	for _, rule := range slices.Sorted(maps.Keys(counts)) {
		row := report.WebSocketRuleRow{Rule: rule, Count: counts[rule]}
		row.Severity, row.Message = ruleMessage(rule, last, s.InProgress)
		e.Violations = append(e.Violations, row)
	}
	return e
}

// ruleMessage is the severity and message of rule in the newest probe that
// broke it: the one in progress, else the last.
func ruleMessage(rule string, probes ...*websocket.Result) (string, string) {
	for i := len(probes) - 1; i >= 0; i-- {
		if probes[i] == nil {
			continue
		}
		for _, v := range probes[i].Violations {
			if v.Rule == rule {
				return string(v.Severity), v.Message
			}
		}
	}
	return "", ""
}

// publishFinding offers a WebSocket probe's violation to the live
// violation stream (/api/v1/violations/stream, eventwatch tail) with
// transport "websocket" and the endpoint path as its topic. Findings are
// not stored: the weekly report's WebSocket section and /api/v1/websockets
// hold them.
func (d *daemon) publishFinding(f websocket.Finding) {
	d.reports.Publish([]store.Example{{Hour: f.Observed.UTC().Truncate(time.Hour), Observed: f.Observed, Service: f.Service,
		Topic: f.Path, EventType: f.EventType, EventID: f.EventID, Time: f.Observed, Rule: f.Rule,
		Severity: string(f.Severity), Profile: f.Profile, Message: f.Message, Field: f.Field, Transport: f.Transport}})
}

// WebSockets returns what each WebSocket target's probes added since the
// last call, on the leader only (every replica probes every target; the
// store counts one prober's probes). A new term starts a new baseline.
func (c *clusterSource) WebSockets(_, _ time.Time) []ledger.WebSocketTarget {
	if c.d.ws == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d.term.Load() == nil {
		c.wsSeen = nil
		return nil
	}
	next := map[string]websocket.Totals{}
	var out []ledger.WebSocketTarget
	for _, s := range c.d.ws.Snapshot() {
		next[s.Target] = s.Totals
		if c.wsSeen == nil {
			continue // the term's first call: the baseline
		}
		if d, ok := totalsDelta(s, c.wsSeen[s.Target]); ok {
			out = append(out, d)
		}
	}
	c.wsSeen = next
	return out
}

// totalsDelta is what s's totals added since prev.
func totalsDelta(s websocket.Status, prev websocket.Totals) (ledger.WebSocketTarget, bool) {
	cur := s.Totals
	d := ledger.WebSocketTarget{Service: s.Service, Target: s.Target, Probes: cur.Probes - prev.Probes, Failures: cur.Failures - prev.Failures,
		NonCompliant: cur.NonCompliant - prev.NonCompliant, Messages: cur.MessagesAudited - prev.MessagesAudited,
		MessagesCompliant: cur.MessagesCompliant - prev.MessagesCompliant}
	for _, rule := range slices.Sorted(maps.Keys(cur.ViolationsByRule)) {
		if n := cur.ViolationsByRule[rule] - prev.ViolationsByRule[rule]; n > 0 {
			d.Violations = append(d.Violations, ledger.WebSocketRule{Rule: rule, Severity: cur.RuleSeverity[rule], Count: n})
		}
	}
	return d, d.Probes > 0 || d.Messages > 0 || len(d.Violations) > 0
}
