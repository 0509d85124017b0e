// Package sample is eventwatch's passive sampling consumer: it reads the
// records of every watched topic, audits a bounded sample of them, and hands
// each result to the sinks (the audit counters, recordmetrics.Counters, the trace
// stitcher, the report aggregator). It counts only what it read, skipped and
// dropped; the audit results are counted by recordmetrics.Counters.
//
// # Model
//
// The sampler is one franz-go client in its own consumer group (default
// "eventwatch"). It subscribes by regular expression (kgo.ConsumeRegex with
// the anchored include patterns, kgo.ConsumeExcludeTopics with the anchored
// exclude patterns; internal topics are excluded by default), so franz-go
// matches new topics and rejoins the group: no subscription of our own to
// keep in sync, and several replicas in the same group split the
// partitions between them. Every sample.metadata_refresh the sampler lists
// the topics with one direct Metadata request and makes the client refresh
// its metadata only when that listing differs from what it consumes
// (topics.go); the client's own refresh is otherwise every 5 minutes.
//
// It is passive: it never produces, it only commits offsets of its own group,
// and a partition the group never committed starts at sample.start_from
// (default "latest": the first record produced after New, found by listing
// end offsets and then offsets by time before joining, so the two listings
// cannot race a producer; a topic created later is read from its first
// record). Progress is committed
// by marking each polled batch (kgo.AutoCommitMarks) and committing the marks
// every sample.commit_interval, on revoke and on shutdown, so a restart
// resumes at the first record not yet counted: no gap, no double count.
//
// Every record read is counted as observed, by offset distance, so records
// compacted away or taken by transaction markers between two reads count as
// produced. Up to sample.budget_per_partition records per second per
// partition (a token bucket holding one second) are audited; the rest are
// counted as skipped. checked/observed is the sampling rate, and compliance
// rates are estimates over `checked` records.
//
// Audits run in sample.workers goroutines fed by a queue bounded by count
// (sample.max_queue) and bytes (sample.max_queue_bytes). Without a Ledger
// queuing never blocks (with one a full queue makes the poll wait): when the queue is full the record is dropped (counted with reason
// queue_full) and the consumer stays at the head of the log, so a slow
// auditor costs sample size, never lag, heartbeats or rebalances (franz-go
// heartbeats in the background). Queued records are copies, so the fetch
// buffers they came from are freed at once. Fetch memory is bounded by
// sample.fetch_max_bytes × sample.max_concurrent_fetches and decompression
// by sample.max_decompressed_batch_bytes.
//
// # Partial failure
//
//   - A record the auditor cannot parse (binary, truncated, huge, a
//     tombstone) is the auditor's business: it returns violations, and the
//     sampler counts them. An auditor or sink that panics costs that record
//     only (dropped, reason audit_panic; or errors{op="sink"}).
//   - A batch that decompresses past the bound is skipped: its records are
//     counted as observed and dropped (reason decompress_too_large) and the
//     partition moves on, never stalls.
//   - Kafka unreachable, or TLS/SASL failing: franz-go retries with backoff;
//     failed connections (errors{op="connect"}) and poll errors
//     (errors{op="poll"}) are counted and shown in Status.LastError; polling
//     goes on and resumes from where it was.
//   - Crash (no clean shutdown): with a Ledger (the daemon) nothing is lost
//     or counted twice in the report — every partition resumes from the
//     position stored with the aggregates, and the Kafka commits are only
//     of stored positions; without one, records polled after the last
//     commit are read and counted again.
//   - Report store down: with a Ledger the sampler pauses fetching while the
//     ledger is Saturated (eventwatch_sampler_paused, Status.Paused) instead
//     of dropping anything.
//
// # Exactly-once with a ledger
//
// The protocol (positions, fencing, rewinds) is described in package
// internal/ledger; this package drives it on its Kafka client (resume.go).
//
// All records of one partition go to one audit worker, in offset order,
// followed by an Advance marker per polled batch ([from, to) delivered). On
// assignment (AdjustFetchOffsetsFn) each partition starts at the ledger's
// stored position; on revoke the partition's queued records stop being
// delivered, the workers are drained and the ledger stores what is closed.
// Records below the position already read are never audited again. With
// sample.instance_id the replica is a static group member (KIP-345): a
// restart within sample.session_timeout gets its partitions back without a
// rebalance; a clean shutdown leaves by instance id.
//
// # Where a partition starts (with a ledger)
//
// Nothing produced while eventwatch is installed is skipped, whether it
// runs or is down; sample.start_from only chooses how much history before
// its first start is read:
//
//   - First start of the group (no first start stored): before joining,
//     the sampler lists every watched partition and stores, in one
//     transaction, the position start_from gives it (latest: the first
//     record produced after New; earliest: the log start; a timestamp: the
//     first record at or after it) and the history that skips — counted
//     once (eventwatch_sampler_unaudited_records_total{reason="history"}),
//     logged once, a note in the week's report.
//   - A partition with a stored position resumes there. A position beyond
//     the partition's end (topic deleted and recreated, cluster replaced)
//     or below its log start (retention overtook it) is detected at
//     assignment (listing the log start and end) and while reading (the
//     fetch's high watermark and log start), reset as
//     sample.on_position_mismatch says (start, the default: the log start;
//     end), and recorded: a report note, eventwatch_sampler_position_resets_total{reason},
//     the records never audited in eventwatch_sampler_unaudited_records_total{reason},
//     a WARN line with topic, partition and offsets.
//   - A partition without a stored position once the group is watching
//     is new traffic (a topic created, or partitions added, after the first
//     start, while eventwatch ran or was down): it is read from its log
//     start, and its position is stored at first sight — empty partitions
//     included — so a restart resumes where eventwatch started watching it.
//
// When the store cannot be read at start the sampler falls back to the
// start-time snapshot of start_from (and says so at WARN).
//
// # Metrics
//
// The sampler's own (the audit counters are listed in package audit):
//
//	eventwatch_records_observed_total{topic}                counter
//	eventwatch_sampler_skipped_records_total{topic}         counter
//	eventwatch_sampler_dropped_records_total{reason}        counter
//	eventwatch_sampler_lag_records{topic}                   gauge
//	eventwatch_sampler_assigned_partitions                  gauge
//	eventwatch_sampler_topics                               gauge
//	eventwatch_sampler_queued_records                       gauge
//	eventwatch_sampler_paused                               gauge
//	eventwatch_sampler_unaudited_records_total{reason}      counter
//	eventwatch_sampler_position_resets_total{reason}        counter
//	eventwatch_sampler_errors_total{op}                     counter
//	eventwatch_sampler_rebalances_total{event}              counter
//
// sample.max_source_services bounds the source_service label of the audit
// counters (recordmetrics.NewCounters takes it).
package sample
