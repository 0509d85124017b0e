// Package audit decides which rules of an event-driven architecture
// standard one Kafka record breaks.
//
// # Model
//
// The standard the engine enforces is a policy.Profile (internal/policy,
// the policy language): where the envelope fields live, how each is
// checked, which rules run at which severity (per topic), the waivers in
// force and the rule settings. NewEngine compiles it once for the scanner
// (the envelope path trie, the field checks) and the rules.
//
// An Engine (NewEngine) audits records against one profile and, optionally,
// an event Catalog (the interface the catalog.* rules need; internal/catalog
// loads one from a directory or an AsyncAPI document: type, version, JSON
// Schema of data, producer, expected consumers). Check runs one pass over the value with a
// purpose-built JSON scanner that validates the grammar and UTF-8, caps
// nesting at 64 levels, and records on the way the spans of the envelope
// fields, unknown envelope keys, blob-like strings and the shape of data.
// The record rules (Rules(); one rule_*.go file each) then read those spans;
// facts.go gives them cheap derived facts on demand (dataFacts: whether
// data is an object and how many top-level keys it has) without touching
// the scanner.
// A compliant event costs one allocation (the per-event id strings); the
// type, source and version strings are interned.
//
// Two rules keep bounded state shared by all goroutines: duplicate.event_id
// remembers 64-bit hashes of recent event ids in two rotating generations
// of fixed-size tables (see dupWindow for the error rates), and
// drift.breaking_change learns the data shape of each (type, version) from
// its first events, then flags removed fields and changed JSON types (at
// most DriftMaxTypes shapes of at most 256 paths each).
//
// # Bad input and partial failure
//
// Check never fails and never panics on input: a value that is not a JSON
// object (binary, truncated, array, scalar, invalid UTF-8, too deep) is one
// envelope.invalid_json violation, and the rules that need the raw record
// (topic name, size, key) still run. A nil value is a tombstone:
// Result.Tombstone is set and no rule runs, since deleting a key on a
// compacted topic is not an envelope violation; sinks count tombstones.
// Duplicate keys in an object: the last one wins, as in encoding/json.
// A bare event (empty Record.Topic, as `eventwatch check` reads plain
// NDJSON) skips the rules that need a Kafka record (naming.topic,
// key.missing). As a last line of defence an internal panic is recovered,
// logged, and reported as envelope.invalid_json, so one record can never
// stop a partition.
//
// On a dead-letter topic (policy.Profile.IsDLQTopic) the record must wrap the
// original event with error context (dlq.missing_error_context); the
// Result then carries the original event's identity, and the envelope rules
// do not run again on the copy.
//
// The record counters (internal/recordmetrics) and the offline NDJSON
// stream of `eventwatch check` (internal/check) are built on the engine;
// the record vocabulary (Record, Result, rule ids) is internal/event.
package audit
