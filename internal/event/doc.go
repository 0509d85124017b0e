// Package event is eventwatch's record vocabulary: the words every other
// package uses to talk about one audited Kafka record, and nothing else.
//
// A Record is one Kafka record as read (topic, partition, offset, key,
// value, headers, timestamp); a Result is what the audit engine learned from
// it (envelope identity, size, profile, the Violations it breaks, each with
// a rule id and a Severity); a Sink receives both. The rule catalogue
// (Rules, RecordRules, ClusterRules, LookupRule) lists every stable rule id
// with its default severity, scope, summary and the clauses of the
// standards it enforces: record rules (evaluated by internal/audit, one
// rule_*.go file each) and cluster rules (evaluated from the admin API by
// internal/lag and the other estate-level checks).
//
// The package imports nothing of eventwatch's own: it is the floor every
// package that only needs these words stands on (trace, sample, report,
// catalog, lag), so none of them has to import the engine.
package event
