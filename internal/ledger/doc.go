// Package ledger is eventwatch's exactly-once accounting: it turns audited
// records into hourly report aggregates and stores them, with the input
// positions they cover, so that every record read from Kafka is counted in
// the report once — through crashes, rebalances between replicas and store
// outages.
//
// # Model
//
// The Ledger is an event.Sink: Observe adds each record to in-memory hourly
// aggregates per (service, topic, event type) — records checked and records
// compliant (no error-severity violation, the same definition as
// eventwatch_records_compliant_total) — and per rule — violations, plus a
// bounded number of offender references (topic, partition, offset, event
// id, time; never payload bytes). Observe takes one short mutex and never
// does I/O.
//
// It is also the sampler's accounting (Accounts, driven by internal/sample):
//
//   - Positions: the store holds, per (sampler group, topic, partition), the
//     next offset to count (store.Position). On assignment the sampler
//     resumes every partition from it (Acquire).
//   - Ranges: the sampler tells the ledger each range [from, to) whose
//     records it delivered (Advance); the ledger keeps each partition's
//     aggregates apart, in segments with the range they cover.
//   - Fencing: a flush (Run, every store.flush_interval, and once more on
//     shutdown) stores the closed segments' aggregates and moves the
//     partitions' positions in one transaction, each move only when the
//     stored position equals the segment's start (store.Advance, an
//     optimistic fence). A *store.ConflictError (another replica, or an
//     earlier attempt whose acknowledgement was lost, already moved it)
//     drops what is already stored and asks the sampler to read the rest
//     again (Listener.Rewind).
//   - Resume: after a successful flush the Listener hears the stored
//     positions (Stored) and commits them to Kafka, so the sampler group's
//     Kafka lag says how far the report is behind. A kill -9 therefore
//     loses nothing and counts nothing twice: the restarted sampler resumes
//     from the stored positions.
//   - Back-pressure: rows of acquired partitions are never dropped; at
//     store.buffer_limit rows Saturated turns true and the sampler pauses
//     fetching. Release (revoke) flushes what it can within a few seconds
//     and forgets the partitions; the next owner reads the rest again.
//
// # Protocol
//
// The count is exact only because the sampler keeps one invariant per
// partition, between two Acquires: the records it hands to Observe come in
// strictly increasing offset order, and each Advance(from, to) closes
// exactly the records observed since the previous Advance — all of them in
// [from, to). Records whose Advance is never sent (a read cut short) are
// never followed by another Advance of the same acquisition: the sampler
// cuts a read only by retiring the partition's read state (partState.live
// false, on a revoke, a rewind or a reset), and the next call for that
// partition is then Release or Acquire, both of which discard what is
// open (or the process stops). internal/sample keeps it by sending a partition's records and
// Advances through one worker queue in order (worker.go) and by retiring
// the read state behind a barrier before Release or Acquire (group.go
// handOver, resume.go readAgain).
//
// The ledger does not trust it blindly. An Advance that does not start at
// the partition's position discards the open records (they belong to a
// read the sampler has abandoned). An Advance whose open records are not
// all inside [from, to), or came out of order, is refused (refuseRange):
// closing it would count records twice (seen when two owners of a
// partition with no stored position each observed records without their
// Advance, FuzzLedgerExactlyOnce) or claim records not in it. The refusal
// discards everything held for the partition, logs an error, counts it
// (eventwatch_store_refused_ranges_total), and asks the
// sampler (Listener.Rewind) to read it again from the start of its first
// unstored range, else its position, else the lowest offset observed; the
// store's fence reconciles that with the stored position. A breach
// therefore costs a re-read, never a double count. The one way the real
// sampler can breach it is an audit still running when a revoke's or
// rewind's barrier gave up waiting (barrierTimeout): its record reaches
// the ledger after the new Acquire, and is refused this way.
//
// Duplicate ids (WithDuplicateIDs, ids.go): every audited record's event
// id that the engine's in-process window did not flag (event.IDCheck: id
// hash, location hash, record time) is held with its partition's
// aggregates and remembered in the store in the same fenced transaction;
// an id the store remembers from another location within the window
// becomes a duplicate.event_id violation of that record inside the
// transaction (counts, compliance, example), so restarts, kill -9 and
// replicas sharing PostgreSQL neither miss nor double count a producer
// duplicate. After the commit the duplicates are reported (the daemon
// counts them in eventwatch_violations_total) and ids older than the window
// expire, in batches of at most twice the ids stored.
// eventwatch_store_event_ids shows how many ids the store remembers (its
// disk): an exact COUNT(*) at the first flush and hourly (a full scan of
// the table, so not per flush), and in between the last count plus the ids
// each flush stored as first copies minus those it expired. Replicas
// sharing PostgreSQL each add only their own inserts between counts, so
// take the max over replicas; the hourly count corrects any drift.
//
// Each flush also samples the optional ClusterSource (DLQ growth,
// lag-objective breach time, trace propagation coverage) and stores the
// samples beside the aggregates; these are measurements, not record counts.
//
// The SQL side of the fence (the positions table and the conditional
// update inside the write transaction) is in internal/store
// (positions.go); the Kafka side (resuming, rewinding, committing stored
// positions) is in internal/sample (resume.go). Reports are built from the
// store by internal/report, which knows nothing of positions or flushes.
//
// # Partial failure
//
// When the store is unavailable a flush fails as a whole: its rows go back
// to the in-memory buffer (segments frozen, so a retry can tell them
// apart) and are retried with the next flush. Only rows not tied to a
// partition (cluster samples, records of partitions nobody acquired) are
// dropped beyond the limit, and counted. Nothing blocks and nothing
// crashes.
//
// # Metrics
//
//	eventwatch_store_flushes_total{result}                 counter
//	eventwatch_store_last_flush_success_timestamp_seconds  gauge
//	eventwatch_store_buffered_aggregates                   gauge
//	eventwatch_store_dropped_aggregates_total              counter
//	eventwatch_store_flush_duration_seconds                histogram
//	eventwatch_store_position_conflicts_total              counter
//	eventwatch_store_refused_ranges_total                  counter
//	eventwatch_store_event_ids                             gauge
//	eventwatch_store_expired_event_ids_total               counter
package ledger
