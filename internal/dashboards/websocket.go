package dashboards

import "github.com/eventwatch/eventwatch/internal/metrics"

// webSocketRow is the Compliance board's row of WebSocket endpoints: the
// prober's last verdict per endpoint, what it found, and the heartbeat it
// measured (docs/rules.md, websocket rules).
func webSocketRow() Row {
	return Row{ID: 30, Title: "WebSocket endpoints", Panels: webSocketPanels()}
}

func webSocketPanels() []Panel {
	success, compliant := sel(metrics.WebSocketProbeSuccess), sel(metrics.WebSocketProbeCompliant)
	viol := sel(metrics.WebSocketViolations)
	return []Panel{
		{ID: 31, Title: "WebSocket probes succeeding", Kind: Stat, Unit: "percentunit", Width: 6, Height: 5, Min: ptr(0.0), Max: ptr(1.0),
			Description: "Endpoints whose last probe held an authenticated connection for the listen window, divided by the probed endpoints.",
			Queries:     []Query{{Expr: "sum(" + success + ") / count(" + success + ")", Instant: true}},
			Thresholds:  ratioSteps(1)},
		{ID: 32, Title: "WebSocket endpoints compliant", Kind: Stat, Unit: "percentunit", Width: 6, Height: 5, Min: ptr(0.0), Max: ptr(1.0),
			Description: "Endpoints whose last probe succeeded and found no error-severity violation (path, authentication, heartbeat, messages).",
			Queries:     []Query{{Expr: "sum(" + compliant + ") / count(" + compliant + ")", Instant: true}},
			Thresholds:  ratioSteps(1)},
		{ID: 33, Title: "WebSocket messages audited", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Messages received on probed WebSocket connections and audited like Kafka records, over the time range.",
			Queries:     []Query{{Expr: sumIncrease("", sel(metrics.WebSocketMessagesAudited), "$__range"), Instant: true}}},
		{ID: 34, Title: "WebSocket violations", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Violations found by WebSocket probes (websocket.* rules and message rules), over the time range.",
			Queries:     []Query{{Expr: sumIncrease("", viol, "$__range"), Instant: true}}, Thresholds: countSteps(1)},
		{ID: 35, Title: "WebSocket endpoint status", Kind: Table, Unit: "none", Width: 24, Height: 8,
			Description: "Per endpoint: 1 when the last probe succeeded (Value #A), was compliant (Value #B), and the server answered eventwatch's ping (Value #C).",
			Queries: []Query{
				{Expr: "max by (job, target, service) (" + success + ")", Instant: true},
				{Expr: "max by (job, target, service) (" + compliant + ")", Instant: true},
				{Expr: "max by (job, target, service) (" + sel(metrics.WebSocketPingAnswered) + ")", Instant: true}}},
		{ID: 36, Title: "WebSocket violations by rule and service", Kind: BarGauge, Unit: "short", Width: 12, Height: 8,
			Description: "Violations over the time range by rule and the endpoint's service (message violations carry the record rule ids).",
			Queries:     []Query{{Expr: sumIncrease("service, rule", viol, "$__range") + " > 0", Legend: "{{service}} {{rule}}", Instant: true}}},
		{ID: 37, Title: "Heartbeat interval p95 by endpoint", Kind: TimeSeries, Unit: "s", Width: 12, Height: 8,
			Description: "95th percentile of the time between two heartbeats the server sent (ping frames or heartbeat messages); the profile asks for 30 s (authorworks).",
			Queries: []Query{{Expr: quantile("0.95", metrics.WebSocketHeartbeatInterval, "target, kind", "$__rate_interval"),
				Legend: "{{target}} ({{kind}})"}}},
		{ID: 38, Title: "WebSocket probe duration", Kind: TimeSeries, Unit: "s", Width: 12, Height: 8,
			Description: "How long each endpoint's last probe took, listen window included.",
			Queries:     []Query{{Expr: "max by (job, target) (" + sel(metrics.WebSocketProbeDuration) + ")", Legend: "{{target}}"}}},
		{ID: 39, Title: "WebSocket violations by rule", Kind: TimeSeries, Unit: "ops", Width: 12, Height: 8,
			Description: "WebSocket violations per second, by rule id.",
			Queries:     []Query{{Expr: sumRate("rule", viol, "$__rate_interval"), Legend: "{{rule}}"}}},
	}
}
