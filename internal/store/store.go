// Package store keeps eventwatch's report data: hourly aggregates of audited
// records, rule violations, offender references and cluster samples (DLQ
// growth, lag-objective breach time, propagation coverage). The embedded
// default is a SQLite file in the data directory (modernc.org/sqlite, pure
// Go); a postgres:// DSN selects PostgreSQL through pgx so that several
// replicas share one store. Both drivers run the same schema and the same
// numbered migrations (table schema_migrations).
//
// The model is additive: every row is keyed by a UTC hour plus its
// dimensions, and Write merges a Batch into existing rows with upserts
// (checked = checked + excluded.checked, ...). Several replicas, or one
// replica before and after a restart, therefore add to the same hourly rows
// instead of overwriting each other. Offender examples are references only
// (topic, partition, offset, event id, event time), at most MaxExamples per
// (hour, service, topic, event type, rule); payload bytes never reach the
// store.
//
// Partial failure: Write runs in one transaction, so a batch is stored
// entirely or not at all; the caller (report.Aggregator) keeps a failed batch
// in memory and retries it with the next flush. With PostgreSQL a commit whose
// acknowledgement is lost on the network may have been applied; retrying it
// then counts that batch twice (at most one flush interval of data).
package store

import (
	"context"
	"time"
)

// Window selects hourly rows with From <= hour < To, optionally for one
// service.
type Window struct {
	From, To time.Time // hour range, From inclusive, To exclusive
	Service  string    // source service filter; empty means all
}

// RecordAgg counts audited records of one (hour, service, topic, event type).
type RecordAgg struct {
	Hour      time.Time // UTC hour start
	Service   string    // source (producing) service
	Topic     string    // topic the records were read from
	EventType string    // envelope event type
	Checked   int64     // records audited
	Compliant int64     // records without an error-severity violation
}

// ViolationAgg counts violations of one rule on one (hour, service, topic,
// event type).
type ViolationAgg struct {
	Hour       time.Time // UTC hour start
	Service    string    // source service
	Topic      string    // topic
	EventType  string    // event type
	Rule       string    // rule id, e.g. envelope.missing_field
	Severity   string    // error or warning
	Violations int64     // violations found
}

// Example is a reference to one offending record: where to find it, never
// what it contained.
type Example struct {
	Hour      time.Time // UTC hour start of the aggregate it belongs to
	Service   string    // source service
	Topic     string    // topic
	EventType string    // event type
	Rule      string    // rule the record broke
	Partition int32     // partition of the record
	Offset    int64     // offset of the record
	EventID   string    // envelope event id, when readable
	Time      time.Time // record timestamp
}

// Cluster sample kinds stored in ClusterAgg.Kind.
const (
	KindDLQGrowth   = "dlq_growth"  // Name: DLQ topic; Value: records added
	KindLagBreach   = "lag_breach"  // Name: consumer group; Value: seconds above the lag objective; Total: seconds observed
	KindPropagation = "propagation" // Name: service; Value: hops that carried trace context; Total: hops seen
)

// ClusterAgg is an additive cluster-level quantity for one hour.
type ClusterAgg struct {
	Hour  time.Time // UTC hour start
	Kind  string    // one of the Kind* constants
	Name  string    // DLQ topic, consumer group or service
	Value float64   // the measured amount (records, seconds, hops)
	Total float64   // the denominator where there is one, else 0
}

// Batch is one flush worth of aggregates.
type Batch struct {
	Records    []RecordAgg    // record counts
	Violations []ViolationAgg // violation counts
	Examples   []Example      // offender references
	Cluster    []ClusterAgg   // cluster samples
}

// Len returns the number of rows in b.
func (b *Batch) Len() int {
	return len(b.Records) + len(b.Violations) + len(b.Examples) + len(b.Cluster)
}

// HourTotal is the number of records checked in one hour.
type HourTotal struct {
	Hour    time.Time // UTC hour start
	Checked int64     // records audited in that hour, all services
}

// Store is the report store. Implementations are safe for concurrent use.
type Store interface {
	// Driver returns DriverSQLite or DriverPostgres.
	Driver() string
	// Write merges b into the stored hourly rows in one transaction.
	Write(ctx context.Context, b *Batch) error
	// Records returns record counts in w.
	Records(ctx context.Context, w Window) ([]RecordAgg, error)
	// Violations returns violation counts in w.
	Violations(ctx context.Context, w Window) ([]ViolationAgg, error)
	// Examples returns offender references in w.
	Examples(ctx context.Context, w Window) ([]Example, error)
	// Cluster returns cluster samples in w (w.Service is ignored).
	Cluster(ctx context.Context, w Window) ([]ClusterAgg, error)
	// Hours returns the records checked per stored hour, oldest first.
	Hours(ctx context.Context) ([]HourTotal, error)
	// Prune deletes rows older than before and returns how many went.
	Prune(ctx context.Context, before time.Time) (int64, error)
	// Close releases the connections.
	Close() error
}

// HourOf returns the UTC hour containing t.
func HourOf(t time.Time) time.Time {
	return t.UTC().Truncate(time.Hour)
}
