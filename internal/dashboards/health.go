package dashboards

import (
	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/mixin"
)

// health is the eventwatch health board: is the monitor itself up,
// collecting and keeping up with the traffic it samples.
func health() Board {
	return Board{
		UID:         "eventwatch-health",
		Title:       "eventwatch / Health",
		Description: "eventwatch's own health: scrape, Kafka connectivity, background collectors, admin API errors and the sampler.",
		Tags:        []string{"self"},
		Rows: []Row{
			{ID: 1, Title: "Status", Panels: statusPanels()},
			{ID: 10, Title: "Collectors and admin API", Panels: collectorPanels()},
			{ID: 20, Title: "Sampler", Panels: samplerPanels()},
			{ID: 30, Title: "Replicas and report store", Panels: replicaPanels()},
			{ID: 40, Title: "Sampling coverage", Panels: coveragePanels()},
		},
	}
}

var upMappings = []Mapped{{Value: "0", Text: "DOWN", Color: "red"}, {Value: "1", Text: "UP", Color: "green"}}

func statusPanels() []Panel {
	up := series(metrics.Spec{Name: "up"}, "", mixin.SelectorToken)
	return []Panel{
		{ID: 2, Title: "Replicas up", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "eventwatch replicas Prometheus scraped successfully (targets " + mixin.SelectorToken + ").",
			Queries:     []Query{{Expr: "sum(" + up + ")", Instant: true}},
			Thresholds:  []Step{{Color: "red"}, {Value: 1, Color: "green"}}},
		{ID: 3, Title: "Kafka reachable", Kind: Stat, Unit: "none", Width: 6, Height: 5,
			Description: "Whether every replica's last readiness probe reached the Kafka cluster.",
			Queries:     []Query{{Expr: "min(" + sel(metrics.KafkaUp) + ")", Instant: true}},
			Mappings:    upMappings, Thresholds: []Step{{Color: "red"}, {Value: 1, Color: "green"}}},
		{ID: 4, Title: "Config reload", Kind: Stat, Unit: "none", Width: 6, Height: 5,
			Description: "Whether the last configuration load (start or SIGHUP) succeeded on every replica.",
			Queries:     []Query{{Expr: "min(" + sel(metrics.ConfigReloadSuccess) + ")", Instant: true}},
			Mappings:    []Mapped{{Value: "0", Text: "FAILED", Color: "red"}, {Value: "1", Text: "OK", Color: "green"}},
			Thresholds:  []Step{{Color: "red"}, {Value: 1, Color: "green"}}},
		{ID: 5, Title: "Build", Kind: Table, Unit: "short", Width: 6, Height: 5,
			Description: "eventwatch and Go versions running.",
			Queries:     []Query{{Expr: "count by (job, version, goversion) (" + sel(metrics.BuildInfo) + ")", Instant: true}}},
	}
}

func collectorPanels() []Panel {
	return []Panel{
		{ID: 11, Title: "Collector success", Kind: BarGauge, Unit: "none", Width: 8, Height: 8,
			Description: "Whether each background collector's last cycle succeeded completely (1) or not (0).",
			Queries: []Query{{Expr: "min by (job, collector) (" + sel(metrics.CollectorSuccess) + ")", Legend: "{{collector}}",
				Instant: true}},
			Mappings: []Mapped{{Value: "0", Text: "FAILING", Color: "red"}, {Value: "1", Text: "OK", Color: "green"}},
			Min:      ptr(0.0), Max: ptr(1.0), Thresholds: []Step{{Color: "red"}, {Value: 1, Color: "green"}}},
		{ID: 12, Title: "Time since last successful collection", Kind: TimeSeries, Unit: "s", Width: 8,
			Description: "Seconds since each collector last completed a cycle without error.",
			Queries: []Query{{Expr: "time() - max by (job, collector) (" + sel(metrics.CollectorLastSuccess) + ")",
				Legend: "{{collector}}"}}},
		{ID: 13, Title: "Collector duration", Kind: TimeSeries, Unit: "s", Width: 8,
			Description: "Duration of each collector's last cycle.",
			Queries: []Query{{Expr: "max by (job, collector) (" + sel(metrics.CollectorDuration) + ")",
				Legend: "{{collector}}"}}},
		{ID: 14, Title: "Admin API errors", Kind: TimeSeries, Unit: "ops", Width: 12,
			Description: "Failed Kafka admin API requests per second, by request kind.",
			Queries: []Query{{Expr: sumRate("request", sel(metrics.AdminErrors), "$__rate_interval"),
				Legend: "{{request}}"}}},
		{ID: 15, Title: "Brokers", Kind: TimeSeries, Unit: "short", Width: 12,
			Description: "Brokers the cluster metadata lists.",
			Queries:     []Query{{Expr: "max(" + sel(metrics.ClusterBrokers) + ")", Legend: "brokers"}}},
	}
}

func samplerPanels() []Panel {
	return []Panel{
		{ID: 21, Title: "Records produced and audited", Kind: TimeSeries, Unit: "ops",
			Description: "Records produced to watched topics and records audited, per second.",
			Queries: []Query{
				{Expr: sumRate("", sel(metrics.RecordsObserved), "$__rate_interval"), Legend: "produced"},
				{Expr: sumRate("", sel(metrics.RecordsChecked), "$__rate_interval"), Legend: "audited"},
			}},
		{ID: 22, Title: "Sampler lag by topic", Kind: TimeSeries, Unit: "short",
			Description: "Records eventwatch's own sampling consumer is behind the end of each topic.",
			Queries:     []Query{{Expr: "max by (job, topic) (" + sel(metrics.SamplerLag) + ")", Legend: "{{topic}}"}}},
		{ID: 23, Title: "Dropped and sampled-out records", Kind: TimeSeries, Unit: "ops",
			Description: "Records that could not be audited (by reason), and records skipped because the audit budget was spent.",
			Queries: []Query{
				{Expr: sumRate("reason", sel(metrics.SamplerDropped), "$__rate_interval"), Legend: "dropped: {{reason}}"},
				{Expr: sumRate("", sel(metrics.RecordsSkipped), "$__rate_interval"), Legend: "sampled out"},
			}},
		{ID: 24, Title: "Assigned partitions and topics", Kind: TimeSeries, Unit: "short",
			Description: "Partitions assigned to each replica's sampling consumer, and topics matched by the filters.",
			Queries: []Query{
				{Expr: "sum(" + sel(metrics.SamplerPartitions) + ")", Legend: "partitions"},
				{Expr: "max(" + sel(metrics.SamplerTopics) + ")", Legend: "topics"},
			}},
	}
}

func replicaPanels() []Panel {
	return []Panel{
		{ID: 31, Title: "Leaders", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Replicas leading the singleton work (lag, topic config and DLQ collection), per deployment (job); exactly one each is healthy.",
			Queries:     []Query{{Expr: "sum by (job) (" + sel(metrics.Leader) + ")", Legend: "{{job}}", Instant: true}},
			Thresholds:  []Step{{Color: "red"}, {Value: 1, Color: "green"}, {Value: 2, Color: "red"}}},
		{ID: 32, Title: "Ready replicas", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Replicas whose /readyz answers 200 (configuration loaded, Kafka reachable).",
			Queries:     []Query{{Expr: "sum(" + sel(metrics.Ready) + ")", Instant: true}},
			Thresholds:  []Step{{Color: "red"}, {Value: 1, Color: "green"}}},
		{ID: 33, Title: "Time since last report-store flush", Kind: Stat, Unit: "s", Width: 6, Height: 5,
			Description: "Seconds since aggregates last reached the report store (SQLite or PostgreSQL).",
			Queries: []Query{{Expr: "time() - max(" + sel(metrics.StoreLastFlushSuccess) + ")",
				Instant: true}},
			Thresholds: []Step{{Color: "green"}, {Value: 300, Color: "orange"}, {Value: 900, Color: "red"}}},
		{ID: 34, Title: "Leadership changes", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Leadership acquisitions over the time range; more than a few means replicas flap.",
			Queries: []Query{{Expr: sumIncrease("", sel(metrics.LeaderTransitions, `direction="acquired"`), "$__range"),
				Instant: true}}},
		{ID: 35, Title: "Report-store flushes", Kind: TimeSeries, Unit: "ops", Width: 8,
			Description: "Flushes of report aggregates per second, by result.",
			Queries: []Query{{Expr: sumRate("result", sel(metrics.StoreFlushes), "$__rate_interval"),
				Legend: "{{result}}"}}},
		{ID: 36, Title: "Report-store flush duration p95", Kind: TimeSeries, Unit: "s", Width: 8,
			Description: "95th percentile of the time one flush took.",
			Queries: []Query{{Expr: quantile("0.95", metrics.StoreFlushDuration, "instance", "$__rate_interval"),
				Legend: "{{instance}}"}}},
		{ID: 37, Title: "Buffered and dropped aggregates", Kind: TimeSeries, Unit: "short", Width: 8,
			Description: "Aggregate rows waiting for the store, and rows dropped per second because the buffer was full (lost from reports).",
			Queries: []Query{
				{Expr: "sum(" + sel(metrics.StoreBuffered) + ")", Legend: "buffered"},
				{Expr: sumRate("", sel(metrics.StoreDropped), "$__rate_interval"), Legend: "dropped/s"},
			}},
		{ID: 38, Title: "Remembered event ids", Kind: TimeSeries, Unit: "short", Width: 12,
			Description: "Event ids the report store remembers for duplicate.event_id (table event_ids, one row per audited id for audit.duplicate_window; about 58 bytes each on SQLite, 98 on PostgreSQL: docs/operations.md). Max over replicas, which share one store and each count it exactly hourly. Flat at 0 with audit.duplicate_store false.",
			Queries:     []Query{{Expr: "max by (job) (" + sel(metrics.StoreEventIDs) + ")", Legend: "{{job}}"}}},
		{ID: 39, Title: "Expired event ids", Kind: TimeSeries, Unit: "short", Width: 12,
			Description: "Remembered event ids deleted per second because they were older than audit.duplicate_window; in a steady state it matches the rate ids are stored.",
			Queries:     []Query{{Expr: "sum by (job) (rate(" + sel(metrics.StoreExpiredEventIDs) + "[$__rate_interval]))", Legend: "{{job}}"}}},
	}
}

// coveragePanels show the lag collector's view of the sampler group (from
// the admin API, so a replica that is gone shows) and the back-pressure.
func coveragePanels() []Panel {
	return []Panel{
		{ID: 41, Title: "Unaudited partitions", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Partitions of sampled topics no replica audits now: assigned to no member of the sampler group, or assigned to one whose stored position is stuck (killed, its session not yet expired; paused; hung). Their records are read later from the stored position, nothing is lost.",
			Queries:     []Query{{Expr: "sum(" + sel(metrics.SamplingUnaudited) + ")", Instant: true}},
			Thresholds:  []Step{{Color: "green"}, {Value: 1, Color: "red"}}},
		{ID: 42, Title: "Sampling paused", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Replicas that paused fetching because their report buffer is full (the store is unavailable); they fall behind, nothing is dropped.",
			Queries:     []Query{{Expr: "sum(" + sel(metrics.SamplerPaused) + ")", Instant: true}},
			Thresholds:  []Step{{Color: "green"}, {Value: 1, Color: "orange"}}},
		{ID: 43, Title: "Unaudited partitions by topic", Kind: TimeSeries, Unit: "short", Width: 12, Height: 5,
			Description: "Unaudited partitions of each sampled topic (see the stat), against the sampled topics' partitions.",
			Queries: []Query{
				{Expr: "max by (job, topic) (" + sel(metrics.SamplingUnaudited) + ")", Legend: "unaudited {{topic}}"},
				{Expr: "sum by (job) (max by (job, topic) (" + sel(metrics.SamplingPartitions) + "))", Legend: "partitions"},
			}},
		{ID: 44, Title: "Stored position behind the end", Kind: TimeSeries, Unit: "short", Width: 24,
			Description: "Records between the positions in the report store (the sampler group's commits) and the end of each sampled topic: how far the weekly report is behind the traffic.",
			Queries:     []Query{{Expr: "max by (job, topic) (" + sel(metrics.SamplingPositionLag) + ")", Legend: "{{topic}}"}}},
	}
}
