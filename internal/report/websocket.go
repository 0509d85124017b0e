package report

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"
)

// webSocketsSection is "WebSocket endpoints": the week's probe rows from
// the store, with the prober's view now laid over them by a running
// instance for the week in progress (MergeLiveWebSockets).
var webSocketsSection = reportSection{Key: "websockets", Title: "WebSocket endpoints", Fill: fillWebSockets,
	Markdown: mdWebSockets, CSV: csvWebSockets, HTML: webSocketsHTML,
	Funcs: template.FuncMap{"wsServices": wsServices, "wsStatus": wsStatus, "wsEndpoint": wsEndpoint, "wsRules": wsRules}}

const webSocketsHTML = `{{if .WebSockets}}
<h3>WebSocket endpoints</h3>
<p>Each probed endpoint's week: probes (failed, non-compliant), messages audited (compliant) and the rules broken; status and heartbeat from the last probe while the week is in progress.</p>
{{range wsServices .WebSockets}}<h4>Service {{(index . 0).Service}}</h4>
<table><thead><tr><th scope="col">endpoint</th><th scope="col">status</th><th scope="col">heartbeat</th><th scope="col" class="num" title="probes in the week (failed, non-compliant)">probes</th><th scope="col" class="num" title="messages audited in the week (compliant)">messages</th><th scope="col">rules broken</th></tr></thead>
<tbody>{{range .}}<tr><td>{{wrap (wsEndpoint .)}}</td><td>{{wsStatus .}}{{if .Error}}: {{wrap .Error}}{{end}}</td><td>{{.Heartbeat}}</td><td class="num">{{.Probes}} ({{.Failures}}, {{.NonCompliantProbes}})</td><td class="num">{{.MessagesAudited}} ({{.MessagesCompliant}})</td><td>{{wrap (wsRules .)}}</td></tr>{{end}}</tbody></table>{{end}}{{end}}`

// WebSocketEndpoint is one probed WebSocket endpoint as the report shows
// it. The counts (probes, failures, non-compliant probes, messages,
// violations by rule) are the report's week, from the store (the leader's
// prober writes them with each flush); for the week in progress the
// prober's view now is laid over them (URL, profile, the last probe's
// status, heartbeat and messages; MergeLiveWebSockets).
type WebSocketEndpoint struct {
	Service   string     `json:"service"`              // the owning service
	Target    string     `json:"target"`               // the target label
	URL       string     `json:"url"`                  // the endpoint (empty in a past week's endpoint no longer probed)
	Profile   string     `json:"profile"`              // the profile it is checked with
	LastProbe *time.Time `json:"last_probe,omitempty"` // when the last probe started (week in progress); null before the first and in past weeks
	// FirstProbeInProgress: no probe has ended yet; Heartbeat,
	// LastViolations and Violations show what the first found so far.
	FirstProbeInProgress bool   `json:"first_probe_in_progress,omitempty"`
	Success              bool   `json:"success"`                 // the last probe could hold an authenticated connection
	Compliant            bool   `json:"compliant"`               // and found no error-severity violation
	Error                string `json:"error,omitempty"`         // why the last probe failed
	Heartbeat            string `json:"heartbeat"`               // the last heartbeat verdict and its numbers
	PingAnswered         *bool  `json:"ping_answered,omitempty"` // the server answered eventwatch's ping
	Probes               int64  `json:"probes"`                  // probes in the week
	Failures             int64  `json:"failures"`                // of which failed
	// NonCompliantProbes are the week's probes that failed or found an
	// error-severity violation.
	NonCompliantProbes int64              `json:"non_compliant_probes"`
	MessagesAudited    int64              `json:"messages_audited"`          // messages audited in the week
	MessagesCompliant  int64              `json:"messages_compliant"`        // of which without an error-severity violation
	Violations         []WebSocketRuleRow `json:"violations"`                // by rule in the week, with the last probe's message
	LastViolations     map[string]int     `json:"last_violations,omitempty"` // the last probe's violations by rule
}

// WebSocketRuleRow is one rule broken on an endpoint.
type WebSocketRuleRow struct {
	Rule     string `json:"rule"`               // rule id (websocket.* or a record rule found in messages)
	Severity string `json:"severity,omitempty"` // its severity in the last probe that broke it
	Count    int64  `json:"count"`              // violations in the week
	Message  string `json:"message,omitempty"`  // the last probe's message for it
}

// wsStatus is an endpoint's state in one word.
func wsStatus(e WebSocketEndpoint) string {
	switch {
	case e.LastProbe == nil && e.FirstProbeInProgress:
		return "first probe in progress"
	case e.LastProbe == nil && e.Probes > 0: // a past week: the week's verdict
		return weekStatus(e)
	case e.LastProbe == nil:
		return "not probed yet"
	case !e.Success:
		return "probe failing"
	case !e.Compliant:
		return "non-compliant"
	}
	return "compliant"
}

// weekStatus is an endpoint's week in a few words.
func weekStatus(e WebSocketEndpoint) string {
	if e.NonCompliantProbes == 0 {
		return fmt.Sprintf("compliant in all %d probes", e.Probes)
	}
	return fmt.Sprintf("non-compliant in %d of %d probes (%d failed)", e.NonCompliantProbes, e.Probes, e.Failures)
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

// wsEndpoint names an endpoint: its URL, else (a past week's endpoint the
// prober no longer probes) its target label.
func wsEndpoint(e WebSocketEndpoint) string {
	if e.URL != "" {
		return e.URL
	}
	return e.Target
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

func mdWebSockets(p mdPrinter, r *Weekly) {
	if len(r.WebSockets) == 0 {
		return
	}
	p("## WebSocket endpoints\n")
	p("Each probed endpoint's week: probes (failed, non-compliant), messages audited (compliant) and rules broken; status and heartbeat from the last probe while the week is in progress (docs/rules.md, websocket rules).\n")
	for _, group := range wsServices(r.WebSockets) {
		mdTable(p, "#WebSocket endpoints of "+mdCell(group[0].Service), []string{"endpoint", "status", "heartbeat", "probes (failed, non-compliant)", "messages audited (compliant)", "rules broken"},
			group, func(e WebSocketEndpoint) []string {
				st := wsStatus(e)
				if e.Error != "" {
					st += ": " + e.Error
				}
				return []string{wsEndpoint(e), st, e.Heartbeat, fmt.Sprintf("%d (%d, %d)", e.Probes, e.Failures, e.NonCompliantProbes),
					fmt.Sprintf("%d (%d)", e.MessagesAudited, e.MessagesCompliant), wsRules(e)}
			})
	}
}

func csvWebSockets(r *Weekly, row csvRow) {
	for _, e := range r.WebSockets {
		row("websocket", map[string]string{"service": e.Service, "reference": wsEndpoint(e), "profile": e.Profile,
			"checked": i64(e.Probes), "compliant": i64(e.Probes - e.NonCompliantProbes), "violations": i64(e.Failures),
			"value": wsStatus(e), "message": e.Heartbeat})
		row("websocket_messages", map[string]string{"service": e.Service, "reference": wsEndpoint(e), "profile": e.Profile,
			"checked": i64(e.MessagesAudited), "compliant": i64(e.MessagesCompliant)})
		for _, v := range e.Violations {
			row("websocket_violations", map[string]string{"service": e.Service, "reference": wsEndpoint(e), "rule": v.Rule,
				"severity": v.Severity, "violations": i64(v.Count), "message": v.Message})
		}
	}
}
