// Package readers answers who really reads what: per event type and
// version, the consumer groups that read it, when each last did and how
// far behind each is; whether a version can be retired; and whether each
// consumer group is idempotent, as both house standards require.
//
// # Model
//
// An Index is an event.Sink. For every audited record it notes, per
// (topic, partition), where the event's type and version occurred: not
// every offset but at most three offset ranges (segments) per partition,
// type and version, each with its count of audited events and the
// production times of its first and last event. A new range opens when an
// occurrence comes more than a minute after the newest range's last one;
// beyond three, the two oldest merge. So the recent past is exact to the
// minute and the memory is constant per (partition, type, version): about
// 90 bytes (BenchmarkIndexMemory, docs/performance.md).
//
// Join reads consumer groups' committed offsets from the lag collector's
// snapshot (the leader's, once per lag cycle; no admin call of its own). A
// group whose committed offset passed an occurrence since the previous
// join — or passed one that was indexed since, when eventwatch's sampler
// is behind the group — read that type and version at that cycle. A group
// seen for the first time is credited with the production time of the last
// occurrence it had passed, marked estimated. Behind is the audited events
// at or after the committed offsets and the age of the oldest of them. A
// committed offset that moves backwards is a Rewind: those records are
// delivered to the group again.
//
// Consumption is what committed offsets show: a group that receives a
// type and discards it in code still commits past it and counts as a
// reader. The verdicts err on the safe side (such a group blocks
// retirement until it stops committing past the old version).
//
// Retirement (judge): a version can be retired when a newer version of its
// type is in use, no producer emitted it within Config.RetirementWindow,
// and every group that read it also reads a newer version and has none of
// it left unread; otherwise the verdict names what blocks it.
//
// Idempotency (Checker): the trace stitcher hands over each closed
// chain's causation (trace.Stitcher.OnCausation; the daemon adapts it to a
// Chain, so this package does not depend on how causation is inferred).
// An input delivered more than once — a producer duplicate (the same event
// id at another record position) or a rewind of the consuming group over
// its offset — whose consuming service emitted more downstream events than
// one delivery of that type gives (measured on inputs delivered once; 1
// until measured) makes the group not idempotent for the type
// (consumer.not_idempotent, a cluster rule evaluated by the lag collector
// through lag.Expectations.NotIdempotent). A group that reads a type with
// no such evidence either way is "not_observable", never "idempotent".
// The consuming group of a service is the group with committed offsets on
// the input's topic named like the service, else the service's name.
//
// # Across replicas
//
// Every replica indexes the partitions it samples and shares a ReplicaDoc
// (package share, kind "readers"): its type stats and idempotency
// verdicts (additive), and its positions (at most 6000 partitions) for the
// leader, which imports them before each join and adds the readers it
// found. Any replica answers GET /api/v1/types with Assemble over every
// replica's latest document. A replica restarting under the same replica
// id resumes from its earlier document (Tracker.Resume).
//
// # Bounds
//
// 2000 types and versions, 200,000 partitions, 10,000 groups, 32 producers
// and topics per type, 512 rewinds, 1000 (group, type) idempotency pairs
// with 5 examples each; what is beyond is counted in Estate.Overflow.
//
// # Metrics
//
//	eventwatch_consumer_redelivered_inputs_total{group,event_type,outcome}  counter
package readers
