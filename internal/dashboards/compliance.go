package dashboards

import "github.com/eventwatch/eventwatch/internal/metrics"

// compliance is the Compliance overview: how much of the audited traffic
// meets the standard, which rules are broken, by whom and where.
func compliance(o Options) Board {
	viol := sel(metrics.Violations, byTopic, bySource)
	return Board{
		UID:         "eventwatch-compliance",
		Title:       "eventwatch / Compliance overview",
		Description: "Share of audited records that break no error-severity rule, and the violations behind the rest.",
		Tags:        []string{"compliance"},
		Variables: []Variable{topicVar(),
			{Name: "service", Spec: metrics.Violations, Label: "source_service", Help: "producing services seen in violations"}},
		Rows: []Row{
			{ID: 1, Title: "Over the selected time range", Panels: complianceNow(o, viol)},
			{ID: 10, Title: "Trend", Panels: complianceTrend(o, viol)},
			{ID: 20, Title: "Who breaks which rule", Panels: complianceBreakdown(viol)},
			webSocketRow(),
		},
	}
}

// complianceRatio is compliant / checked; a topic without any compliant
// series (0% compliant) yields 0 rather than no value.
func complianceRatio(by, window string) string {
	checked := sumIncrease(by, sel(metrics.RecordsChecked, byTopic), window)
	return "(" + sumIncrease(by, sel(metrics.RecordsCompliant, byTopic), window) + " or " + checked + " * 0) / " + checked
}

func complianceNow(o Options, viol string) []Panel {
	return []Panel{
		{ID: 2, Title: "Compliance", Kind: Stat, Unit: "percentunit", Width: 6, Height: 5,
			Description: "Audited records with no error-severity violation, divided by audited records, over the time range.",
			Queries:     []Query{{Expr: complianceRatio("", "$__range"), Instant: true}},
			Thresholds:  ratioSteps(o.ComplianceObjective), Min: ptr(0.0), Max: ptr(1.0)},
		{ID: 3, Title: "Records audited", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Records read and checked against the profile: the sample behind the compliance ratio.",
			Queries:     []Query{{Expr: sumIncrease("", sel(metrics.RecordsChecked, byTopic), "$__range"), Instant: true}}},
		{ID: 4, Title: "Error-severity violations", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Violations of rules the profile treats as errors.",
			Queries: []Query{{Expr: sumIncrease("", sel(metrics.Violations, byTopic, bySource, `severity="error"`), "$__range"),
				Instant: true}},
			Thresholds: countSteps(1)},
		{ID: 5, Title: "Audited share of traffic", Kind: Stat, Unit: "percentunit", Width: 6, Height: 5,
			Description: "Records audited divided by records produced while eventwatch watched: the sampling rate.",
			Queries: []Query{{Expr: sumIncrease("", sel(metrics.RecordsChecked, byTopic), "$__range") + " / " +
				sumIncrease("", sel(metrics.RecordsObserved, byTopic), "$__range"), Instant: true}}},
	}
}

func complianceTrend(o Options, viol string) []Panel {
	return []Panel{
		{ID: 11, Title: "Compliance by topic", Kind: TimeSeries, Unit: "percentunit", Min: ptr(0.0), Max: ptr(1.0),
			Description: "Compliance ratio per topic over time.",
			Queries:     []Query{{Expr: complianceRatio("topic", "$__rate_interval"), Legend: "{{topic}}"}},
			Thresholds:  ratioSteps(o.ComplianceObjective)},
		{ID: 12, Title: "Violations by rule", Kind: TimeSeries, Unit: "ops",
			Description: "Violations per second, by rule id (see docs/rules.md).",
			Queries:     []Query{{Expr: sumRate("rule", viol, "$__rate_interval"), Legend: "{{rule}}"}}},
		{ID: 13, Title: "Event size p95 by topic", Kind: TimeSeries, Unit: "bytes",
			Description: "95th percentile of the serialized size of audited records.",
			Queries: []Query{{Expr: quantile("0.95", metrics.EventSize, "topic", "$__rate_interval", byTopic),
				Legend: "{{topic}}"}}},
		{ID: 14, Title: "Violations by severity", Kind: TimeSeries, Unit: "ops",
			Description: "Violations per second, errors and warnings.",
			Queries:     []Query{{Expr: sumRate("severity", viol, "$__rate_interval"), Legend: "{{severity}}"}}},
	}
}

func complianceBreakdown(viol string) []Panel {
	return []Panel{
		{ID: 21, Title: "Violations by rule", Kind: BarGauge, Unit: "short", Width: 8, Height: 10,
			Description: "Violations over the time range, by rule.",
			Queries:     []Query{{Expr: sumIncrease("rule", viol, "$__range"), Legend: "{{rule}}", Instant: true}}},
		{ID: 22, Title: "Violations by service", Kind: BarGauge, Unit: "short", Width: 8, Height: 10,
			Description: "Violations over the time range, by the producing service named in the envelope.",
			Queries:     []Query{{Expr: sumIncrease("source_service", viol, "$__range"), Legend: "{{source_service}}", Instant: true}}},
		{ID: 23, Title: "Violations by topic", Kind: BarGauge, Unit: "short", Width: 8, Height: 10,
			Description: "Violations over the time range, by topic.",
			Queries:     []Query{{Expr: sumIncrease("topic", viol, "$__range"), Legend: "{{topic}}", Instant: true}}},
		{ID: 24, Title: "Top offenders", Kind: Table, Unit: "short", Width: 24, Height: 10,
			Description: "The 20 (service, rule, severity) pairs with the most violations over the time range.",
			Queries: []Query{{Expr: "topk(20, " + sumIncrease("source_service, rule, severity", viol, "$__range") + " > 0)",
				Instant: true}}},
		{ID: 26, Title: "Violations by transport", Kind: BarGauge, Unit: "short", Width: 24, Height: 5,
			Description: "Violations over the time range, by transport: kafka (audited records) and websocket (probed WebSocket endpoints, the endpoint path as topic).",
			Queries:     []Query{{Expr: sumIncrease("transport", viol, "$__range"), Legend: "{{transport}}", Instant: true}}},
		{ID: 25, Title: "Cluster rule violations", Kind: Table, Unit: "none", Width: 24, Height: 8,
			Description: "Active violations of cluster-level rules found through the admin API (replication, retention, DLQ, consumers).",
			Queries: []Query{{Expr: "max by (job, rule, resource, severity) (" + sel(metrics.ClusterRuleViolations) + ") > 0",
				Instant: true}}},
	}
}
