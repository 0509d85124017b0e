package dashboards

import "github.com/eventwatch/eventwatch/internal/metrics"

// lagDLQ is the Consumer lag & DLQ board: are consumers keeping up, and
// are dead-letter topics filling.
func lagDLQ() Board {
	return Board{
		UID:         "eventwatch-lag",
		Title:       "eventwatch / Consumer lag & DLQ",
		Description: "Consumer group status, offset and time lag against the objective, and dead-letter topic depth and growth.",
		Tags:        []string{"lag", "dlq"},
		Variables: []Variable{
			{Name: "group", Spec: metrics.GroupLagRecords, Label: "group", Help: "consumer groups"},
			{Name: "topic", Spec: metrics.GroupLagRecords, Label: "topic", Help: "topics the groups consume"},
		},
		Rows: []Row{
			{ID: 1, Title: "Consumer groups", Panels: groupPanels()},
			{ID: 10, Title: "Lag", Panels: lagPanels()},
			{ID: 20, Title: "Dead-letter topics", Panels: dlqPanels()},
		},
	}
}

func groupPanels() []Panel {
	status := sel(metrics.GroupStatus, byGroup)
	return []Panel{
		{ID: 2, Title: "Groups in STOP or STALL", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Groups whose committed offsets stopped moving while lag is non-zero (STOP) or that do not commit at all (STALL).",
			Queries: []Query{{Expr: `count(` + sel(metrics.GroupStatus, byGroup, `status=~"STOP|STALL"`) + ` == 1) or vector(0)`,
				Instant: true}},
			Thresholds: countSteps(1)},
		{ID: 3, Title: "Worst time lag", Kind: Stat, Unit: "s", Width: 6, Height: 5,
			Description: "The largest time lag of any selected group on any selected topic.",
			Queries:     []Query{{Expr: "max(" + sel(metrics.GroupLagSeconds, byGroup, byTopic) + ")", Instant: true}}},
		{ID: 4, Title: "Lag objective", Kind: Stat, Unit: "s", Width: 6, Height: 5,
			Description: "The configured time-lag objective (lag.lag_objective_seconds).",
			Queries:     []Query{{Expr: "max(" + sel(metrics.LagObjective) + ")", Instant: true}}},
		{ID: 5, Title: "Groups over the objective", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Groups with a topic whose time lag is above their deployment's objective.",
			Queries: []Query{{Expr: "count(max by (job, group) (" + sel(metrics.GroupLagSeconds, byGroup, byTopic) +
				") > on (job) group_left () max by (job) (" + sel(metrics.LagObjective) + ")) or vector(0)", Instant: true}},
			Thresholds: countSteps(1)},
		{ID: 6, Title: "Group status", Kind: Table, Unit: "none", Width: 12, Height: 8,
			Description: "Current status of each group over the sliding window: OK, WARN, ERR, STOP, STALL or REWIND.",
			Queries:     []Query{{Expr: "max by (job, group, status) (" + status + " == 1)", Instant: true}}},
		{ID: 7, Title: "Group members", Kind: TimeSeries, Unit: "short", Width: 12, Height: 8,
			Description: "Members in each group; 0 with lag means nobody is consuming.",
			Queries:     []Query{{Expr: "max by (job, group) (" + sel(metrics.GroupMembers, byGroup) + ")", Legend: "{{group}}"}}},
	}
}

func lagPanels() []Panel {
	return []Panel{
		{ID: 11, Title: "Time lag by group and topic", Kind: TimeSeries, Unit: "s",
			Description: "How far behind in time each group is on each topic, with the objective as a line.",
			Queries: []Query{
				{Expr: "max by (job, group, topic) (" + sel(metrics.GroupLagSeconds, byGroup, byTopic) + ")", Legend: "{{group}} / {{topic}}"},
				{Expr: "max(" + sel(metrics.LagObjective) + ")", Legend: "objective"},
			}},
		{ID: 12, Title: "Offset lag by group and topic", Kind: TimeSeries, Unit: "short",
			Description: "Records each group still has to read on each topic.",
			Queries: []Query{{Expr: "max by (job, group, topic) (" + sel(metrics.GroupLagRecords, byGroup, byTopic) + ")",
				Legend: "{{group}} / {{topic}}"}}},
		{ID: 13, Title: "Time over the lag objective", Kind: BarGauge, Unit: "s",
			Description: "How long each group's time lag was above the objective during the time range.",
			Queries: []Query{{Expr: sumIncrease("group", sel(metrics.LagObjectiveBreach, byGroup), "$__range"),
				Legend: "{{group}}", Instant: true}}},
		{ID: 14, Title: "Share of time over the lag objective", Kind: TimeSeries, Unit: "percentunit", Min: ptr(0.0), Max: ptr(1.0),
			Description: "Fraction of wall-clock time each group spent above the lag objective (an error budget burn rate).",
			Queries: []Query{{Expr: "max by (job, group) (rate(" + sel(metrics.LagObjectiveBreach, byGroup) + "[$__rate_interval]))",
				Legend: "{{group}}"}}},
	}
}

func dlqPanels() []Panel {
	return []Panel{
		{ID: 21, Title: "DLQ depth", Kind: TimeSeries, Unit: "short",
			Description: "Records held by each dead-letter topic.",
			Queries: []Query{{Expr: "max by (job, topic, source_service) (" + sel(metrics.DLQDepth) + ")",
				Legend: "{{topic}} ({{source_service}})"}}},
		{ID: 22, Title: "DLQ growth", Kind: TimeSeries, Unit: "opm",
			Description: "Records written to each dead-letter topic per minute.",
			Queries: []Query{{Expr: sumRate("topic, source_service", sel(metrics.DLQRecords), "$__rate_interval") + " * 60",
				Legend: "{{topic}} ({{source_service}})"}}},
		{ID: 23, Title: "DLQ records in the status window", Kind: BarGauge, Unit: "short", Width: 12, Height: 8,
			Description: "Records written to each dead-letter topic during the lag status window.",
			Queries: []Query{{Expr: "max by (job, topic) (" + sel(metrics.DLQNewRecords) + ")", Legend: "{{topic}}",
				Instant: true}}},
		{ID: 24, Title: "DLQ retention", Kind: BarGauge, Unit: "s", Width: 12, Height: 8,
			Description: "retention.ms of each dead-letter topic (-1 is infinite); short retention loses failed events before anyone looks.",
			Queries: []Query{{Expr: "max by (job, topic) (" + sel(metrics.DLQRetention) + ")", Legend: "{{topic}}",
				Instant: true}}},
	}
}
