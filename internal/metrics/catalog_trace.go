package metrics

// latencyBuckets span a fast in-process hop (a few milliseconds) to a slow
// batch pipeline (tens of minutes).
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800}

// Trace stitching and OTLP export metrics (owned by internal/trace).
var (
	HopLatency = define(Spec{Name: "eventwatch_hop_latency_seconds", Kind: Histogram, Area: "trace",
		Help:    "Time from an event to the event it caused in the same chain (a hop), by publishing service of each (from event time, else record time).",
		Labels:  []string{"from_service", "to_service"},
		Buckets: latencyBuckets})
	PathwayLatency = define(Spec{Name: "eventwatch_pathway_latency_seconds", Kind: Histogram, Area: "trace",
		Help:    "End-to-end time of a flow (a root-to-leaf path of a closed chain), from its first to its last event, by pathway (the services in order, joined by '>').",
		Labels:  []string{"pathway"},
		Buckets: latencyBuckets})
	PropagationEvents = define(Spec{Name: "eventwatch_propagation_events_total", Kind: Counter, Area: "trace",
		Help:   "Events seen by the trace stitcher, by source service (the denominator of propagation coverage).",
		Labels: []string{"service"}})
	PropagationCorrelation = define(Spec{Name: "eventwatch_propagation_correlation_total", Kind: Counter, Area: "trace",
		Help:   "Events carrying a correlation id, by source service; coverage = this / eventwatch_propagation_events_total.",
		Labels: []string{"service"}})
	PropagationTraceContext = define(Spec{Name: "eventwatch_propagation_trace_context_total", Kind: Counter, Area: "trace",
		Help:   "Events carrying a trace context (traceparent header or envelope trace context), by source service.",
		Labels: []string{"service"}})
	BrokenChains = define(Spec{Name: "eventwatch_broken_chains_total", Kind: Counter, Area: "trace",
		Help:   "Closed chains in which a service dropped or replaced the correlation id or trace id, by that service and reason.",
		Labels: []string{"service", "reason"}})
	TraceOpenChains = define(Spec{Name: "eventwatch_trace_open_chains", Kind: Gauge, Area: "trace",
		Help: "Chains currently open in the stitcher's window."})
	TraceStateBytes = define(Spec{Name: "eventwatch_trace_state_bytes", Kind: Gauge, Area: "trace",
		Help:   "Estimated bytes of the stitcher's chain state, by state (open: chains in their window; closed: closed chains remembered for late events); bounded by trace.max_state_bytes.",
		Labels: []string{"state"}})
	TraceRememberedChains = define(Spec{Name: "eventwatch_trace_remembered_chains", Kind: Gauge, Area: "trace",
		Help: "Closed chains remembered for trace.late_window so that a late event still joins its chain."})
	TraceEvictedChains = define(Spec{Name: "eventwatch_trace_evicted_chains_total", Kind: Counter, Area: "trace",
		Help:   "Chains evicted, oldest first, to keep the chain state within trace.max_state_bytes, by state: closed (forgotten before trace.late_window passed: a later event of it starts a new chain) or open (closed and counted before trace.window passed: its later events start a new chain).",
		Labels: []string{"state"}})
	TraceRoutingPartitions = define(Spec{Name: "eventwatch_trace_routing_partitions", Kind: Gauge, Area: "trace",
		Help: "Partitions of the trace routing topic this replica owns: it stitches the chains whose keys fall in them (0 with routing off)."})
	TraceChainsClosed = define(Spec{Name: "eventwatch_trace_chains_closed_total", Kind: Counter, Area: "trace",
		Help: "Chains closed after their window and analysed."})
	TraceDropped = define(Spec{Name: "eventwatch_trace_dropped_total", Kind: Counter, Area: "trace",
		Help:   "Events the stitcher did not stitch, by reason (queue_full, max_chains, chain_full, no_context, duplicate; with routing route_full, route_error, bad_message).",
		Labels: []string{"reason"}})
	OTLPSpansExported = define(Spec{Name: "eventwatch_otlp_spans_exported_total", Kind: Counter, Area: "trace",
		Help: "Spans accepted by the OTLP endpoint."})
	OTLPSpansDropped = define(Spec{Name: "eventwatch_otlp_spans_dropped_total", Kind: Counter, Area: "trace",
		Help:   "Spans not exported, by reason (queue_full, export_error, shutdown).",
		Labels: []string{"reason"}})
	TraceCausation = define(Spec{Name: "eventwatch_trace_causation_total", Kind: Counter, Area: "trace",
		Help:   "Events of closed chains by how their upstream was found: exact (span evidence), inferred, ambiguous (several possible causes, none attached), root.",
		Labels: []string{"causation"}})
	TraceLateEvents = define(Spec{Name: "eventwatch_trace_late_events_total", Kind: Counter, Area: "trace",
		Help: "Events that arrived after their chain had closed: joined to the remembered chain (within trace.late_window) or, beyond it, counted here and stitched only with what came after."})
	TraceDeadLetters = define(Spec{Name: "eventwatch_trace_dead_letters_total", Kind: Counter, Area: "trace",
		Help: "Dead-letter copies of events seen by the stitcher (on a dead-letter topic, or with Spring kafka_dlt-* or Kafka Connect __connect.errors.* headers): the original's failure, stitched neither as a hop nor as a duplicate."})
	TraceSpans = define(Spec{Name: "eventwatch_trace_spans_total", Kind: Counter, Area: "trace",
		Help:   "OTLP spans read for exact causation, by outcome: received, edge (a send span whose cause it told), bad_message (undecodable), dropped (beyond trace.spans bounds), unresolved (expired before its process span came).",
		Labels: []string{"outcome"}})
)
