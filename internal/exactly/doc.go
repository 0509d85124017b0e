// Package exactly holds no code of its own: its tests run the real sampler
// (internal/sample) into the real report aggregator and store
// (internal/report, internal/store) against an in-process Kafka (kfake) and
// check that the report counts every record exactly once through crashes,
// rebalances between replicas and store outages — the guarantee described
// in docs/reports.md.
package exactly
