// Package trace stitches the events eventwatch samples into chains (flows),
// measures hop and end-to-end latency, reports how well services propagate
// correlation ids and trace context, and exports OpenTelemetry spans over
// OTLP — all passively, without asking any service to add instrumentation.
//
// # Model
//
// Every audited record reaches the Stitcher through Observe (it implements
// event.Sink). Its trace context is resolved in this order: a valid W3C
// traceparent header (what OpenTelemetry's Kafka instrumentations write),
// the envelope's trace context (meta.trace_context in the AuthorWorks
// standard, event.Result.TraceID/SpanID), then a trace id derived from the
// correlation id (the first 16 bytes of SHA-256 over a fixed prefix and the
// id), so that a chain is one trace even where no service traces.
//
// A chain is the set of events sharing a correlation id or a real (header or
// envelope) trace id; an event that links two open chains merges them. A
// chain stays open until Config.Window has passed since its last event
// arrived; then its events are ordered (event time, then record time, then
// arrival) and each event's upstream — the event that caused it — is
// decided (Cause): exact from the services' own spans where they are read
// (SpansConfig: the OTLP topic the Collector's Kafka exporter writes, or
// OTLP/HTTP; the process span above a record's send span names the record
// it consumed), else inferred without guessing (an earlier event of another
// service, of the stage its siblings come from, narrowed by trace and
// record key, then partition order), else ambiguous: counted, never
// attached. A chain is remembered for Config.LateWindow after it closed, so
// an event of a consumer behind by more than the window joins it (the
// counts are corrected) instead of opening a chain where it would be taken
// for a root. Spans are routed by trace key like observations, so the
// owner of a chain holds the spans of its traces. Each (upstream, event) pair is a hop (from service/event type to
// service/event type, latency from event times, else record times); each
// root-to-leaf path is a flow whose sequence of services is its pathway
// ("a>b>c") and whose first-to-last latency is the pathway's latency. A
// chain is broken where a service publishes an event that drops or replaces
// the correlation id or the real trace id of its upstream (reasons
// correlation_dropped, correlation_replaced, trace_dropped, trace_replaced).
//
// # Routing: one owner per chain
//
// With EnableRouting (the daemon's default) Run does not stitch what this
// replica samples: it sends a compact observation of each event (never the
// payload) to the routing topic (RoutingConfig), to the partition of the
// event's smallest chain key (correlation id before trace id), and stitches
// the partitions the routing group assigns it. Chains whose keys fall in
// two partitions are joined by link messages (a redirect, or a move of the
// open chain towards the smaller key), so each chain is analysed whole by
// exactly one replica. A partition's state is rebuilt by its next owner
// from the topic: from RoutingConfig.Replay back, without side effects up
// to the previous owner's committed offset, holding the chains that close
// until the end of the log so that the previous owner's closed markers
// (written once its counts were published, see PublishWith and Published)
// drop the chains it already counted. FlowsDoc and MergeFlows carry what
// each replica counted to the others (the daemon shares them through
// package share).
//
// # Bounds and partial failure
//
// Observe never blocks: events go through a queue of Config.QueueSize and are
// dropped and counted when it is full. One goroutine (Run) owns all chain
// state. At most Config.MaxOpenChains chains are open (an event that would
// open another is dropped, reason max_chains) with at most
// Config.MaxChainEvents events each (chain_full); events with neither a
// correlation id nor a trace context are counted for propagation but not
// stitched (no_context); a repeated event id in a chain is ignored
// (duplicate). A dead-letter copy of an event (event.Result.DeadLetter:
// on a dead-letter topic, or with Spring kafka_dlt-* or Connect
// __connect.errors.* headers) is none of these: it is never stitched,
// not a duplicate and no redelivery, only noted on its original's open
// chain and counted (deadletter.go). The chain state as a whole — open chains and closed ones
// remembered for late events — is bounded in bytes by
// Config.MaxStateBytes (estimated per chain and event): beyond it the
// oldest remembered closed chains are forgotten first, then the oldest
// open chains are closed and counted early, each eviction counted by
// state. An evicted chain's later events start a new chain, so flows may
// count it twice; the audit counts (reports, ledger) never depend on it. Label values are bounded: Config.MaxServices services and
// Config.MaxPathways pathways, later ones become "other". On shutdown every
// open chain is closed and analysed, so nothing already stitched is lost.
//
// OTLP export runs on its own goroutine behind a bounded span queue: a slow
// or unreachable collector costs dropped spans (counted by reason), never a
// blocked stitcher. Spans follow the messaging conventions for Kafka
// (semantic conventions 1.37.0, whose schema URL every resource and scope
// carries). A record whose producer traced it (a traceparent, or an
// envelope trace and span id) gets eventwatch's own CLIENT span
// "poll {topic}" (a receive operation) under eventwatch's service.name,
// linked to the producer's span (OTLPConfig.Traced: link, child or none),
// lasting no time (the time in the log is an attribute) — and never a
// second producer span. Any other record gets a synthesized PRODUCER span "send {topic}"
// under its source service (one tracer provider per service, least recently
// used evicted), attribute eventwatch.synthesized=true, a root of the
// chain's trace linked to the upstream event's span. Sampling is by trace
// id (Config.OTLP.SampleRatio) and ignores the publisher's sampled flag.
//
// # Metrics
//
//	eventwatch_hop_latency_seconds{from_service,to_service}      histogram
//	eventwatch_pathway_latency_seconds{pathway}                  histogram
//	eventwatch_propagation_events_total{service}                 counter
//	eventwatch_propagation_correlation_total{service}            counter
//	eventwatch_propagation_trace_context_total{service}          counter
//	eventwatch_broken_chains_total{service,reason}               counter
//	eventwatch_trace_open_chains                                 gauge
//	eventwatch_trace_remembered_chains                           gauge
//	eventwatch_trace_state_bytes{state}                          gauge
//	eventwatch_trace_evicted_chains_total{state}                 counter
//	eventwatch_trace_routing_partitions                          gauge
//	eventwatch_trace_chains_closed_total                         counter
//	eventwatch_trace_dropped_total{reason}                       counter
//	eventwatch_trace_causation_total{causation}                  counter
//	eventwatch_trace_late_events_total                           counter
//	eventwatch_trace_dead_letters_total                          counter
//	eventwatch_trace_spans_total{outcome}                        counter
//	eventwatch_otlp_spans_exported_total                         counter
//	eventwatch_otlp_spans_dropped_total{reason}                  counter
//
// # HTTP
//
// Routes registers GET /api/v1/flows: pathways with chain counts and latency
// percentiles, hops, per-service propagation coverage and the worst broken
// chains with references (topic, partition, offset, event id) to their
// records, never payloads — this stitcher's, or the estate-wide merge set
// with ServeMerged.
package trace
