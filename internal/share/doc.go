// Package share lets every eventwatch replica see the latest small state
// document of every other replica, through Kafka: the way one replica
// answers an API with the estate-wide answer although each replica holds
// only part of the state (its own chains, its own sampled partitions, the
// leader's lag snapshot).
//
// # Model
//
// A document is a JSON value identified by (kind, replica): kind says what
// it is ("flows", "groups", "asyncapi", ...), replica who published it
// (Config.ReplicaID, unique per process by default). Documents are records
// of one compacted topic (Config.Topic, default "__eventwatch_state", one
// partition, created when missing) keyed "kind/replica", so Kafka keeps the
// latest document of every (kind, replica) pair for ever and a replica that
// starts reads the whole estate's state from the beginning of that topic.
//
// A Board publishes and reads. Publish writes one document now (and waits
// for the broker's ack); Provide registers a function the Board calls every
// Config.Interval to publish a kind periodically. Run reads the topic from
// the start and keeps, in memory, the latest document of every pair;
// Entries(kind) returns them, each marked Stale when its publication time is
// older than Config.StaleAfter (its replica stopped or cannot reach Kafka),
// and Synced says whether the board has read up to the end of the topic as
// it was when Run started (before that, Entries may miss documents).
// Delete publishes a tombstone, so a kind that a replica stops providing
// disappears for every reader. A document that implements Acknowledger
// hears when the broker has it (the stitcher marks chains closed only once
// the counts that include them are durable).
//
// Replica ids: Config.ReplicaID, else $EVENTWATCH_INSTANCE_ID (the pod name
// of a StatefulSet), else the hostname with a random suffix. A replica that
// restarts under a stable id overwrites its own documents (and may resume
// from them: Entries marks them Self); a random id leaves the previous
// process's documents in place, stale.
//
// Typical use (a document every replica contributes to, merged on read):
//
//	b.Provide("asyncapi", func() (any, bool) { return myPart(), true })
//	for _, e := range b.Entries("asyncapi") { merge(e.Doc) } // e.Stale: that replica stopped
//
// Merging is the caller's business: Entries returns raw documents, and the
// caller decides whether to add them up (counters of work each replica did:
// flows), to take the newest (a snapshot only the leader makes: groups), or
// to union them (the observed estate). A stale entry of a replica that died
// still holds what it did before dying; counters should usually keep it.
//
// # Partial failure
//
// While Kafka is unreachable Publish fails (counted in
// eventwatch_share_publish_errors_total{kind}); Run keeps retrying and the
// last documents read stay in memory, growing stale. Documents are small
// (the broker's default max.message.bytes, 1 MiB, is the hard limit; keep
// them well under it) and never carry payloads.
//
// # Metrics
//
//	eventwatch_share_publish_errors_total{kind}      counter
//	eventwatch_share_documents{kind,freshness}       gauge
package share
