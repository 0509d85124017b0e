// Package recordmetrics counts audited records for Prometheus: Counters
// is the event.Sink the daemon hands to the sampler first among the sinks.
// It also remembers which services produce on which topics, which the lag
// collector's dlq.missing rule and dead-letter attribution read
// (SourceServices, TopicService).
//
// # Metrics
//
// Counters counts results (the daemon hands it to the
// sampler first among the sinks); source_service is bounded by
// sample.max_source_services (later services are "other"; a record without
// one is "unknown"). transport is "kafka" for audited records and
// "websocket" for what the WebSocket prober found (CountViolation: the
// endpoint path as topic, the target's service as source_service), so
// "violations by rule" covers both transports:
//
//	eventwatch_records_checked_total{topic}                                counter
//	eventwatch_records_compliant_total{topic}                              counter
//	eventwatch_violations_total{rule,topic,source_service,severity,transport} counter
//	eventwatch_event_size_bytes{topic}                                     histogram
package recordmetrics
