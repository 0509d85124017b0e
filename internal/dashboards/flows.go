package dashboards

import "github.com/eventwatch/eventwatch/internal/metrics"

// flows is the Event flows board: how long events take between services
// and along whole pathways, and whether services propagate the correlation
// id and trace context.
func flows() Board {
	return Board{
		UID:         "eventwatch-flows",
		Title:       "eventwatch / Event flows",
		Description: "Hop and pathway latency of correlated event chains, propagation coverage and broken chains.",
		Tags:        []string{"tracing"},
		Variables: []Variable{{Name: "service", Spec: metrics.PropagationEvents, Label: "service",
			Help: "services seen by the trace stitcher"}},
		Rows: []Row{
			{ID: 1, Title: "Propagation", Panels: propagationPanels()},
			{ID: 10, Title: "Latency", Panels: latencyPanels()},
			{ID: 20, Title: "Broken chains and stitcher health", Panels: brokenPanels()},
		},
	}
}

// coverage is num / events seen; a service without any num series (0%
// coverage) yields 0 rather than no value.
func coverage(num metrics.Spec, by, window string) string {
	events := sumIncrease(by, sel(metrics.PropagationEvents, byService), window)
	return "(" + sumIncrease(by, sel(num, byService), window) + " or " + events + " * 0) / " + events
}

func propagationPanels() []Panel {
	return []Panel{
		{ID: 2, Title: "Correlation-id coverage", Kind: Stat, Unit: "percentunit", Width: 6, Height: 5,
			Description: "Events carrying a correlation id, divided by events seen, over the time range.",
			Queries:     []Query{{Expr: coverage(metrics.PropagationCorrelation, "", "$__range"), Instant: true}},
			Thresholds:  ratioSteps(0.99), Min: ptr(0.0), Max: ptr(1.0)},
		{ID: 3, Title: "Trace-context coverage", Kind: Stat, Unit: "percentunit", Width: 6, Height: 5,
			Description: "Events carrying a trace context (traceparent header or envelope field), divided by events seen.",
			Queries:     []Query{{Expr: coverage(metrics.PropagationTraceContext, "", "$__range"), Instant: true}},
			Thresholds:  ratioSteps(0.99), Min: ptr(0.0), Max: ptr(1.0)},
		{ID: 4, Title: "Broken chains", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Closed chains in which a service dropped or replaced the correlation id or trace id.",
			Queries:     []Query{{Expr: sumIncrease("", sel(metrics.BrokenChains, byService), "$__range"), Instant: true}},
			Thresholds:  countSteps(1)},
		{ID: 5, Title: "Open chains", Kind: Stat, Unit: "short", Width: 6, Height: 5,
			Description: "Chains currently held in the stitcher's window.",
			Queries:     []Query{{Expr: "sum(" + sel(metrics.TraceOpenChains) + ")", Instant: true}}},
		{ID: 6, Title: "Correlation-id coverage by service", Kind: TimeSeries, Unit: "percentunit", Min: ptr(0.0), Max: ptr(1.0),
			Description: "Share of each service's events that carry a correlation id.",
			Queries:     []Query{{Expr: coverage(metrics.PropagationCorrelation, "service", "$__rate_interval"), Legend: "{{service}}"}}},
		{ID: 7, Title: "Trace-context coverage by service", Kind: TimeSeries, Unit: "percentunit", Min: ptr(0.0), Max: ptr(1.0),
			Description: "Share of each service's events that carry a trace context.",
			Queries:     []Query{{Expr: coverage(metrics.PropagationTraceContext, "service", "$__rate_interval"), Legend: "{{service}}"}}},
	}
}

func latencyPanels() []Panel {
	from := `from_service=~"$service"`
	return []Panel{
		{ID: 11, Title: "Hop latency p95", Kind: TimeSeries, Unit: "s",
			Description: "95th percentile of the time between an event and the next event of its chain, per service pair.",
			Queries: []Query{{Expr: quantile("0.95", metrics.HopLatency, "from_service, to_service", "$__rate_interval", from),
				Legend: "{{from_service}} → {{to_service}}"}}},
		{ID: 12, Title: "Pathway latency p95", Kind: TimeSeries, Unit: "s",
			Description: "95th percentile of end-to-end chain duration, per pathway (services in order).",
			Queries: []Query{{Expr: quantile("0.95", metrics.PathwayLatency, "pathway", "$__rate_interval"),
				Legend: "{{pathway}}"}}},
		{ID: 13, Title: "Hops", Kind: Table, Unit: "short", Width: 12, Height: 8,
			Description: "Hops observed per service pair over the time range.",
			Queries: []Query{
				{Expr: sumIncrease("from_service, to_service", series(metrics.HopLatency, "_count", from), "$__range") + " > 0", Instant: true},
			}},
		{ID: 14, Title: "Closed chains by pathway", Kind: BarGauge, Unit: "short", Width: 12, Height: 8,
			Description: "Chains closed over the time range, by pathway.",
			Queries: []Query{{Expr: sumIncrease("pathway", series(metrics.PathwayLatency, "_count"), "$__range"),
				Legend: "{{pathway}}", Instant: true}}},
	}
}

func brokenPanels() []Panel {
	return []Panel{
		{ID: 21, Title: "Broken chains by service and reason", Kind: TimeSeries, Unit: "ops",
			Description: "Chains broken per second, by the service that broke them and how.",
			Queries: []Query{{Expr: sumRate("service, reason", sel(metrics.BrokenChains, byService), "$__rate_interval"),
				Legend: "{{service}}: {{reason}}"}}},
		{ID: 22, Title: "Stitcher drops and OTLP export", Kind: TimeSeries, Unit: "ops",
			Description: "Events the stitcher could not stitch, and spans exported or dropped by the OTLP exporter, per second.",
			Queries: []Query{
				{Expr: sumRate("reason", sel(metrics.TraceDropped), "$__rate_interval"), Legend: "stitcher dropped: {{reason}}"},
				{Expr: sumRate("", sel(metrics.OTLPSpansExported), "$__rate_interval"), Legend: "spans exported"},
				{Expr: sumRate("reason", sel(metrics.OTLPSpansDropped), "$__rate_interval"), Legend: "spans dropped: {{reason}}"},
			}},
	}
}
