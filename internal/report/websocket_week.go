package report

import (
	"sort"

	"github.com/eventwatch/eventwatch/internal/store"
)

// fillWebSockets fills the WebSocket section from the week's stored probe
// rows.
func fillWebSockets(r *Weekly, in buildInput) { r.WebSockets = webSocketWeek(in.cur.cluster) }

// webSocketWeek is the week's WebSocket section from the stored probe
// rows (store.KindWS*): per endpoint (service, target) its probes, failed
// and non-compliant probes, messages audited and compliant, and violations
// by rule, sorted by service then target.
func webSocketWeek(cs []store.ClusterAgg) []WebSocketEndpoint {
	by := map[[2]string]*WebSocketEndpoint{}
	rules := map[[2]string]map[string]*WebSocketRuleRow{}
	get := func(service, target string) *WebSocketEndpoint {
		k := [2]string{service, target}
		if by[k] == nil {
			// the heartbeat verdict is the last probe's: only the live view has it
			by[k], rules[k] = &WebSocketEndpoint{Service: service, Target: target, Heartbeat: "-"}, map[string]*WebSocketRuleRow{}
		}
		return by[k]
	}
	for _, c := range cs {
		p := store.WebSocketParts(c.Name)
		if !store.IsWebSocketKind(c.Kind) || len(p) < 2 {
			continue
		}
		e := get(p[0], p[1])
		switch c.Kind {
		case store.KindWSProbes:
			e.Failures, e.Probes = e.Failures+int64(c.Value), e.Probes+int64(c.Total)
		case store.KindWSNonCompliant:
			e.NonCompliantProbes += int64(c.Value)
		case store.KindWSMessages:
			e.MessagesCompliant, e.MessagesAudited = e.MessagesCompliant+int64(c.Value), e.MessagesAudited+int64(c.Total)
		case store.KindWSViolations:
			if len(p) == 4 {
				addRuleRow(rules[[2]string{p[0], p[1]}], p[2], p[3], int64(c.Value))
			}
		}
	}
	out := make([]WebSocketEndpoint, 0, len(by))
	for k, e := range by {
		for _, r := range rules[k] {
			e.Violations = append(e.Violations, *r)
		}
		sort.Slice(e.Violations, func(i, j int) bool { return e.Violations[i].Rule < e.Violations[j].Rule })
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Target < out[j].Target
	})
	return out
}

func addRuleRow(rows map[string]*WebSocketRuleRow, rule, severity string, n int64) {
	r := rows[rule]
	if r == nil {
		r = &WebSocketRuleRow{Rule: rule}
		rows[rule] = r
	}
	r.Count += n
	if severity != "" {
		r.Severity = severity
	}
}

// MergeLiveWebSockets lays the prober's view now (live: URL, profile, the
// last probe's status, heartbeat and messages) over the week's stored
// endpoints (week: the counts), for the week in progress. An endpoint the
// store has no row for yet keeps the prober's counts since eventwatch
// started; a stored endpoint the prober no longer probes keeps its week.
func MergeLiveWebSockets(week, live []WebSocketEndpoint) []WebSocketEndpoint {
	idx := map[[2]string]int{}
	for i, e := range week {
		idx[[2]string{e.Service, e.Target}] = i
	}
	out := append([]WebSocketEndpoint(nil), week...)
	for _, l := range live {
		i, ok := idx[[2]string{l.Service, l.Target}]
		if !ok {
			out = append(out, l)
			continue
		}
		out[i] = overlayLive(out[i], l)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Target < out[j].Target
	})
	return out
}

// overlayLive is the week's endpoint w with the live fields of l; a rule's
// message (and severity, when the store had none) come from the live view.
func overlayLive(w, l WebSocketEndpoint) WebSocketEndpoint {
	w.URL, w.Profile, w.LastProbe, w.FirstProbeInProgress = l.URL, l.Profile, l.LastProbe, l.FirstProbeInProgress
	w.Success, w.Compliant, w.Error, w.Heartbeat, w.PingAnswered, w.LastViolations = l.Success, l.Compliant, l.Error, l.Heartbeat, l.PingAnswered, l.LastViolations
	msg := map[string]WebSocketRuleRow{}
	for _, v := range l.Violations {
		msg[v.Rule] = v
	}
	for i, v := range w.Violations {
		if m, ok := msg[v.Rule]; ok {
			w.Violations[i].Message = m.Message
			if v.Severity == "" {
				w.Violations[i].Severity = m.Severity
			}
		}
	}
	return w
}
