package report

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// WebSocketEndpoint is one probed WebSocket endpoint as the report shows it:
// the WebSocket prober's view now (its last probe and its counts since
// eventwatch started), not a stored weekly aggregate.
type WebSocketEndpoint struct {
	Service   string     `json:"service"`              // the owning service
	Target    string     `json:"target"`               // the target label
	URL       string     `json:"url"`                  // the endpoint
	Profile   string     `json:"profile"`              // the profile it is checked with
	LastProbe *time.Time `json:"last_probe,omitempty"` // when the last probe started; null before the first
	// FirstProbeInProgress: no probe has ended yet; Heartbeat,
	// LastViolations and Violations show what the first found so far.
	FirstProbeInProgress bool               `json:"first_probe_in_progress,omitempty"`
	Success              bool               `json:"success"`                   // the last probe could hold an authenticated connection
	Compliant            bool               `json:"compliant"`                 // and found no error-severity violation
	Error                string             `json:"error,omitempty"`           // why the last probe failed
	Heartbeat            string             `json:"heartbeat"`                 // the last heartbeat verdict and its numbers
	PingAnswered         *bool              `json:"ping_answered,omitempty"`   // the server answered eventwatch's ping
	Probes               int64              `json:"probes"`                    // probes since eventwatch started
	Failures             int64              `json:"failures"`                  // of which failed
	MessagesAudited      int64              `json:"messages_audited"`          // messages audited since eventwatch started
	Violations           []WebSocketRuleRow `json:"violations"`                // by rule since eventwatch started, last probe's message
	LastViolations       map[string]int     `json:"last_violations,omitempty"` // the last probe's violations by rule
}

// WebSocketRuleRow is one rule broken on an endpoint.
type WebSocketRuleRow struct {
	Rule     string `json:"rule"`               // rule id (websocket.* or a record rule found in messages)
	Severity string `json:"severity,omitempty"` // its severity in the last probe that broke it
	Count    int64  `json:"count"`              // violations since eventwatch started
	Message  string `json:"message,omitempty"`  // the last probe's message for it
}

// wsStatus is an endpoint's state in one word.
func wsStatus(e WebSocketEndpoint) string {
	switch {
	case e.LastProbe == nil && e.FirstProbeInProgress:
		return "first probe in progress"
	case e.LastProbe == nil:
		return "not probed yet"
	case !e.Success:
		return "probe failing"
	case !e.Compliant:
		return "non-compliant"
	}
	return "compliant"
}

// wsRules is an endpoint's rules as "rule ×N" text.
func wsRules(e WebSocketEndpoint) string {
	if len(e.Violations) == 0 {
		return "none"
	}
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = fmt.Sprintf("%s ×%d", v.Rule, v.Count)
	}
	return strings.Join(parts, ", ")
}

// wsServices groups endpoints by service, services sorted.
func wsServices(es []WebSocketEndpoint) [][]WebSocketEndpoint {
	by := map[string][]WebSocketEndpoint{}
	for _, e := range es {
		by[e.Service] = append(by[e.Service], e)
	}
	names := make([]string, 0, len(by))
	for s := range by {
		names = append(names, s)
	}
	sort.Strings(names)
	out := make([][]WebSocketEndpoint, len(names))
	for i, s := range names {
		out[i] = by[s]
	}
	return out
}

func mdWebSockets(p func(string, ...any), r *Weekly) {
	if len(r.WebSockets) == 0 {
		return
	}
	p("## WebSocket endpoints (now)\n")
	p("The WebSocket prober's last probe of each endpoint and its counts since eventwatch started (docs/rules.md, websocket rules).\n")
	for _, group := range wsServices(r.WebSockets) {
		mdTable(p, "#WebSocket endpoints of "+mdCell(group[0].Service), []string{"endpoint", "status", "heartbeat", "probes (failed)", "messages audited", "rules broken"},
			group, func(e WebSocketEndpoint) []string {
				st := wsStatus(e)
				if e.Error != "" {
					st += ": " + e.Error
				}
				return []string{e.URL, st, e.Heartbeat, fmt.Sprintf("%d (%d)", e.Probes, e.Failures), i64(e.MessagesAudited), wsRules(e)}
			})
	}
}

func csvWebSockets(r *Weekly, row func(string, map[string]string)) {
	for _, e := range r.WebSockets {
		row("websocket", map[string]string{"service": e.Service, "reference": e.URL, "profile": e.Profile,
			"checked": i64(e.MessagesAudited), "value": wsStatus(e), "message": e.Heartbeat})
		for _, v := range e.Violations {
			row("websocket_violations", map[string]string{"service": e.Service, "reference": e.URL, "rule": v.Rule,
				"severity": v.Severity, "violations": i64(v.Count), "message": v.Message})
		}
	}
}
