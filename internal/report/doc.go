// Package report turns audited records into weekly compliance reports.
//
// The Aggregator is an audit.Sink: Observe adds each record to in-memory
// hourly aggregates per (service, topic, event type) — records checked and
// records compliant (no error-severity violation, the same definition as
// eventwatch_records_compliant_total) — and per rule — violations, plus a
// bounded number of offender references (topic, partition, offset, event id,
// time; never payload bytes). Observe takes one short mutex and never does
// I/O. Run flushes the aggregates to the store every flush interval and once
// more on shutdown; the store merges them into hourly rows with additive
// upserts, so a restart (or another replica) resumes adding to the same rows.
//
// Exactly-once: the Aggregator is also the sampler's Ledger (Acquire,
// Advance, Release, Positions, Saturated). It keeps each partition's
// aggregates apart, with the offset range they cover, and a flush stores the
// closed ranges' aggregates and moves the partitions' positions in one
// transaction, fenced on the stored position (store.Advance). A conflict
// (another replica, or an earlier attempt whose acknowledgement was lost,
// already moved it) drops what is already stored and asks the sampler to
// read the rest again (PositionListener.Rewind). A kill -9 therefore loses
// nothing and counts nothing twice: the restarted sampler resumes from the
// stored positions. Each flush also samples the
// optional ClusterSource (DLQ growth, lag-objective breach time, trace
// propagation coverage) and stores the samples beside the aggregates.
//
// Partial failure: when the store is unavailable a flush fails as a whole,
// and its rows go back to the in-memory buffer and are retried with the next
// flush. Rows of acquired partitions are never dropped: at store.buffer_limit
// rows Saturated turns true and the sampler pauses fetching. Only rows not
// tied to a partition (cluster samples, records of partitions nobody
// acquired) are dropped beyond the limit and counted
// (eventwatch_store_dropped_aggregates_total). Nothing blocks and nothing
// crashes.
//
// Reports are built from the store for one ISO week in the configured time
// zone (Build) and rendered as JSON, CSV, Markdown or a printable HTML page
// with inline SVG charts (Render). Routes serves them on
// GET /api/v1/reports and GET /api/v1/reports/weekly; RequireToken guards
// them with an optional bearer token.
//
// Metrics: eventwatch_store_flushes_total{result},
// eventwatch_store_last_flush_success_timestamp_seconds,
// eventwatch_store_buffered_aggregates,
// eventwatch_store_dropped_aggregates_total,
// eventwatch_store_flush_duration_seconds,
// eventwatch_store_position_conflicts_total.
package report
