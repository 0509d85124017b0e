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
			{ID: 30, Title: "Consumer health: drain time and data loss", Panels: healthPanels()},
			{ID: 20, Title: "Dead-letter topics", Panels: dlqPanels()},
		},
	}
}

func groupPanels() []Panel {
	status := sel(metrics.GroupStatus, byGroup)
	return []Panel{
		{ID: 2, Title: "Groups in STOP or STALL", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Groups with a partition whose data has waited longer than lag.stop_after without the committed offset moving: nobody owns it (STOP), or its live member advances nothing (STALL).",
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

// healthPanels shows how each group's partitions are judged, when its
// backlog drains, and what retention took or is about to take.
func healthPanels() []Panel {
	waiting := sel(metrics.GroupWaitingSeconds, byGroup, byTopic)
	return []Panel{
		{ID: 31, Title: "Partitions by status", Kind: TimeSeries, Unit: "short",
			Description: "Partitions of each group in STOP, STALL, WARN (falling behind or waiting its turn) and REWIND; OK partitions are not counted.",
			Queries: []Query{{Expr: "sum by (job, group, status) (" + sel(metrics.GroupStatusPartitions, byGroup, byTopic) + ")",
				Legend: "{{group}} {{status}}"}}},
		{ID: 32, Title: "Waiting partitions", Kind: Table, Unit: "s",
			Description: "Per group, topic and status the partition where data has waited longest, and how long: without the offset moving for STOP and STALL, the oldest waiting record's age for WARN and REWIND.",
			Queries:     []Query{{Expr: "max by (job, group, topic, status, partition) (" + waiting + ")", Instant: true}}},
		{ID: 33, Title: "Time to drain", Kind: TimeSeries, Unit: "s",
			Description: "Estimated time until each group has read its backlog on each topic at the rates of the status window; no line while a group is not draining.",
			Queries: []Query{{Expr: "max by (job, group, topic) (" + sel(metrics.GroupDrainSeconds, byGroup, byTopic) + ")",
				Legend: "{{group}} / {{topic}}"}}},
		{ID: 34, Title: "Consumption and production rates", Kind: TimeSeries, Unit: "ops",
			Description: "Records per second each group consumed on each topic, and producers appended to the partitions it reads, over the status window; consumption below production means the lag grows.",
			Queries: []Query{
				{Expr: "max by (job, group, topic) (" + sel(metrics.GroupConsumeRate, byGroup, byTopic) + ")", Legend: "{{group}} / {{topic}} consumed"},
				{Expr: "max by (job, group, topic) (" + sel(metrics.GroupProduceRate, byGroup, byTopic) + ")", Legend: "{{group}} / {{topic}} produced"},
			}},
		{ID: 35, Title: "Records lost to retention", Kind: BarGauge, Unit: "short",
			Description: "Records deleted by retention or DeleteRecords before the group read them, during the time range (each lost range counted once).",
			Queries: []Query{{Expr: "sum by (job, group, topic) (increase(" + sel(metrics.GroupLostRecords, byGroup, byTopic) + "[$__range]))",
				Legend: "{{group}} / {{topic}}", Instant: true}}},
		{ID: 36, Title: "Time to loss", Kind: TimeSeries, Unit: "s",
			Description: "Time until retention may delete the oldest record each group has not read on each topic (retention.ms minus its age; retention.bytes at the production rate).",
			Queries: []Query{{Expr: "min by (job, group, topic) (" + sel(metrics.GroupTimeToLoss, byGroup, byTopic) + ")",
				Legend: "{{group}} / {{topic}}"}}},
		{ID: 37, Title: "Exact time lag", Kind: TimeSeries, Unit: "percentunit", Min: ptr(0.0), Max: ptr(1.0),
			Description: "Share of lagging partitions whose time lag is exact (the timestamp of the record at the committed offset) rather than estimated.",
			Queries: []Query{{Expr: "min by (job, group, topic) (" + sel(metrics.GroupExactPartitions, byGroup, byTopic) + ")",
				Legend: "{{group}} / {{topic}}"}}},
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
		{ID: 45, Title: "Dead letters by cause", Kind: Table, Unit: "short", Width: 24, Height: 10,
			Description: "The 20 largest causes of dead letters: normalised error class and owning service per dead-letter topic (eventwatch dlq list has the original topic, group, event type, trend and samples).",
			Queries: []Query{{Expr: "topk(20, max by (job, topic, error_class, service) (" + sel(metrics.DLQCauseRecords) + "))",
				Instant: true}}},
		{ID: 46, Title: "Poison pills", Kind: Table, Unit: "none", Width: 24, Height: 6,
			Description: "The record blocking each STALL partition: its offset and producer (GET /api/v1/groups/{group} names its event id and failing rules).",
			Queries: []Query{{Expr: "max by (job, group, topic, partition, source_service) (" + sel(metrics.PoisonPillOffset) + ")",
				Instant: true}}},
	}
}
