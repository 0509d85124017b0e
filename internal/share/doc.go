// Package share lets every eventwatch replica see the latest state
// documents of every other replica, through Kafka: the way one replica
// answers an API with the estate-wide answer although each replica holds
// only part of the state (its own chains, its own sampled partitions, the
// leader's lag snapshot).
//
// # Model
//
// A document is a JSON value identified by (kind, replica): kind says what
// it is ("flows", "groups", "asyncapi", ...), replica who published it
// (Config.ReplicaID, unique per process by default). Documents live on one
// compacted topic (Config.Topic, default "__eventwatch_state", one
// partition, created when missing), so Kafka keeps the latest version of
// every record for ever and a replica that starts reads the whole estate's
// state from the beginning of that topic.
//
// A Kind (Board.Declare) says which members of its documents are shared
// item by item (Split: an array keyed by some of its elements' members, or
// an object keyed by member name — one group, one DLQ, one flow pathway,
// one event type). A document is then several records:
//
//	kind/replica/path/key   one item: its JSON (written only when it changed;
//	                        a tombstone when it disappeared)
//	kind/replica            the head: the document with each split member
//	                        replaced by [] or {}, the item counts, when it was
//	                        published
//
// Publishing diffs the new version against what this replica has on the
// topic (read back from it after a restart) and writes the changed items,
// the tombstones, then the head; a reader stages item records and applies
// them when the head arrives, so it never shows half a version, and
// reassembles the document byte for byte (the board knows nothing of its
// fields). A version with no change writes nothing; the head alone is
// written again every stale_after/3 (the heartbeat), so a quiet replica is
// not taken for a stopped one.
//
// # Size
//
// Every record is cut to the record budget: a quarter of the topic's
// max.message.bytes (read at start and again when the broker refuses a
// record as too large), at most 256 KiB. A larger item or head is written
// in parts (keys suffixed "\x00i", header ew-part "i/n/sum"), which a
// reader joins and checks; an item that needs more than 64 parts is left
// out, counted, and named in the head (readers count it missing).
// Batches are compressed with snappy (no encoder state kept), bounded by
// max.message.bytes, and written one produce request at a time.
//
// # Use
//
// A document may cut itself (Presplit: its head and items, as splitting
// its JSON would give; Kind.Split is that reference cut): the board then
// neither marshals nor scans it whole, and the document can pass the
// items whose source did not change by the hash of the JSON it shared
// (Item.Sum) instead of keeping that JSON: the lag leader's groups page
// renders only the groups whose view changed. An item passed as unchanged
// that the topic does not hold in that version makes the board marshal
// the document whole.
//
// Publish writes one document now (and waits for the broker's ack);
// Provide registers a function the Board calls every Config.Interval to
// publish a kind periodically (it may return false when nothing is new).
// Run reads the topic from the start; Entries(kind) returns every
// replica's latest document, each marked Stale when its publication time
// is older than Config.StaleAfter (its replica stopped or cannot reach
// Kafka), and Synced says whether the board has read up to the end of the
// topic as it was when Run started (before that, Entries may miss
// documents; nothing is published before it). Delete publishes tombstones
// for all of a kind's records of this replica. A document that implements
// Acknowledger hears when the broker has it (the stitcher marks chains
// closed only once the counts that include them are durable). A Kind
// marked Single (one publisher at a time: the lag leader) deletes other
// replicas' stale documents of that kind when it publishes.
//
// Replica ids: Config.ReplicaID, else $EVENTWATCH_INSTANCE_ID (the pod name
// of a StatefulSet), else the hostname with a random suffix. A replica that
// restarts under a stable id overwrites its own documents (and may resume
// from them: Entries marks them Self); a random id leaves the previous
// process's documents in place, stale.
//
// Merging is the caller's business: Entries returns raw documents, and the
// caller decides whether to add them up (counters of work each replica did:
// flows), to take the newest (a snapshot only the leader makes: groups), or
// to union them (the observed estate).
//
// # Partial failure
//
// While Kafka is unreachable Publish fails (counted in
// eventwatch_share_publish_errors_total{kind}) and nothing is taken as
// written: the next publication writes every item still different from
// what the topic holds. Run keeps retrying and the last documents read
// stay in memory, growing stale (eventwatch_share_view_age_seconds).
//
// # Metrics
//
//	eventwatch_share_documents{kind,freshness}      gauge
//	eventwatch_share_largest_record_bytes{kind}     gauge
//	eventwatch_share_max_message_bytes              gauge
//	eventwatch_share_omitted_items_total{kind}      counter
//	eventwatch_share_publish_errors_total{kind}     counter
//	eventwatch_share_published_bytes_total{kind}    counter
//	eventwatch_share_published_records_total{kind}  counter
//	eventwatch_share_split_items_total{kind}        counter
//	eventwatch_share_view_age_seconds{kind}         gauge
//	eventwatch_share_view_missing_items{kind}       gauge
package share
