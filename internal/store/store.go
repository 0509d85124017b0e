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
// instead of overwriting each other. Violation examples (rule, message,
// field path, topic/partition/offset, event id and type, profile, times,
// the Confluent schema id of a framed value; never payload values) are kept
// apart from the hourly rows: the most recent MaxExamples per (rule,
// service, topic), for ExampleRetention, paged with FindExamples by an
// opaque cursor.
//
// Event ids: table event_ids remembers, per event id hash, where its first
// copy was read (a location hash) and when; Write judges a Batch's IDs
// against it in the same transaction (duplicate.event_id across restarts
// and replicas), and ExpireIDs deletes ids older than the window in bounded
// batches.
//
// Input positions: table positions holds, per (sampler group, topic,
// partition), the offset up to which records are counted. A Batch carries
// Advances (From → To per partition) and Write moves them in the same
// transaction as the aggregates, each only when the stored position equals
// its From (an optimistic fence, the way Kafka Connect sinks keep offsets in
// the target database). A writer that is stale — it lost the partition to
// another replica, or retries a commit that was in fact applied — gets a
// *ConflictError with the actual positions and nothing is written; the
// sampler resumes every assigned partition from Positions. Counts are
// therefore exact: each record is in the store once, whatever crashes.
//
// Partial failure: Write runs in one transaction, so a batch is stored
// entirely or not at all; the caller (ledger.Ledger) keeps a failed batch
// in memory and retries it with the next flush. With PostgreSQL a commit whose
// acknowledgement is lost on the network may have been applied; its retry
// then conflicts (the positions already moved) and is dropped, not counted
// twice.
package store

import (
	"context"
	"strings"
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
	Profile    string    // profile (or policy) that judged it; "" in rows written before profiles were stored
	Violations int64     // violations found
}

// Example is one violation on one record with its reason: which rule, the
// message and field path, where to find the record and when eventwatch saw
// it. It never holds payload values (messages name fields and envelope
// identifiers only). The store keeps the most recent MaxExamples per
// (rule, service, topic) for ExampleRetention.
type Example struct {
	Hour      time.Time `json:"-"`                   // UTC hour of Observed (report windows select on it)
	Observed  time.Time `json:"observed"`            // when eventwatch audited the record
	Service   string    `json:"service"`             // source service
	Team      string    `json:"team,omitempty"`      // owning team of the service (filled by the API, not stored)
	Topic     string    `json:"topic"`               // topic
	Partition int32     `json:"partition"`           // partition of the record
	Offset    int64     `json:"offset"`              // offset of the record
	EventType string    `json:"event_type"`          // envelope event type
	EventID   string    `json:"event_id,omitempty"`  // envelope event id, when readable
	Time      time.Time `json:"time"`                // record timestamp
	Rule      string    `json:"rule"`                // rule the record broke
	Severity  string    `json:"severity"`            // error or warning
	Profile   string    `json:"profile"`             // profile (or policy) that judged it
	Message   string    `json:"message"`             // why, naming the field; never a payload value
	Field     string    `json:"field,omitempty"`     // JSON path of the offending field, when there is one
	SchemaID  int32     `json:"schema_id,omitempty"` // Confluent Schema Registry schema id of a framed value; 0 (stored as NULL) when not framed
	Transport string    `json:"transport,omitempty"` // "websocket" for a WebSocket probe's finding (live stream only, not stored; Topic is the endpoint path); empty for Kafka records
}

// ExampleQuery selects examples for GET /api/v1/violations, newest first.
type ExampleQuery struct {
	Rule     string    // rule id; empty means every rule
	Services []string  // source services (a team's, or one); nil means all
	Topic    string    // topic; empty means all
	Since    time.Time // observed at or after; zero means no bound
	Limit    int       // page size, 1..1000
	Cursor   string    // opaque position from the previous page's Next; empty starts at the newest
}

// ExamplePage is one page of examples and the cursor of the next ("" at
// the end).
type ExamplePage struct {
	Examples []Example `json:"examples"`    // newest first
	Next     string    `json:"next_cursor"` // pass as cursor for the next page; "" when there is none
}

// Cluster sample kinds stored in ClusterAgg.Kind.
const (
	KindDLQGrowth   = "dlq_growth"  // Name: DLQ topic; Value: records added
	KindLagBreach   = "lag_breach"  // Name: consumer group; Value: seconds above the lag objective; Total: seconds observed
	KindLagErr      = "lag_err"     // Name: consumer group; Value: seconds with lag status ERR (STOP, STALL or REWIND); Total: 0 (seconds observed in rows written before 6 Dec 2026; the report reads the observed time of lag_breach); written only when Value > 0
	KindPropagation = "propagation" // Name: service; Value: hops that carried trace context; Total: hops seen
	KindLagLost     = "lag_lost"    // Name: consumer group; Value: records deleted by retention before the group read them
	KindLagAtRisk   = "lag_at_risk" // Name: consumer group; Value: seconds retention was about to delete an unread record (time to loss under an hour); Total: as lag_err; written only when Value > 0
	// WebSocket probes (internal/websocket), one prober's (the leader's)
	// per target; Name: WebSocketName(service, target).
	KindWSProbes       = "ws_probes"       // Value: failed probes; Total: probes
	KindWSNonCompliant = "ws_noncompliant" // Value: probes that failed or found an error-severity violation; Total: probes
	KindWSMessages     = "ws_messages"     // Value: audited messages without an error-severity violation; Total: messages audited
	KindWSViolations   = "ws_violations"   // Name: WebSocketName(service, target, rule, severity); Value: violations
)

// webSocketSep joins the parts of a WebSocket row's name (a control
// character no service, target or rule id contains).
const webSocketSep = "\x1f"

// WebSocketName is the ClusterAgg.Name of a WebSocket row: service,
// target and, for KindWSViolations, rule and severity.
func WebSocketName(parts ...string) string { return strings.Join(parts, webSocketSep) }

// WebSocketParts splits a WebSocket row's name into its parts
// (WebSocketName's inverse).
func WebSocketParts(name string) []string { return strings.Split(name, webSocketSep) }

// IsWebSocketKind reports whether kind is one of the KindWS* kinds.
func IsWebSocketKind(kind string) bool {
	return kind == KindWSProbes || kind == KindWSNonCompliant || kind == KindWSMessages || kind == KindWSViolations
}

// ClusterAgg is an additive cluster-level quantity for one hour.
type ClusterAgg struct {
	Hour  time.Time // UTC hour start
	Kind  string    // one of the Kind* constants
	Name  string    // DLQ topic, consumer group or service
	Value float64   // the measured amount (records, seconds, hops)
	Total float64   // the denominator where there is one, else 0
}

// Batch is one flush worth of aggregates, and the input positions they
// move: Write stores both in one transaction or neither.
type Batch struct {
	Records    []RecordAgg    // record counts
	Violations []ViolationAgg // violation counts
	Examples   []Example      // offender references
	Cluster    []ClusterAgg   // cluster samples
	Advances   []Advance      // partitions whose records the aggregates count, and the offsets they cover

	// IDs are the event ids of the batch's records, remembered for
	// duplicate.event_id across restarts and replicas (table event_ids).
	// An id stored from another location, within IDWindow of the copy's
	// record time and of when it was stored, makes the copy a duplicate:
	// Write then calls Duplicates with the indexes of those ids inside its
	// transaction, before it writes the aggregates, so the violations
	// Duplicates adds to the batch commit with the ids and positions, or
	// not at all. IDsStored is when the ids are stored (zero: now); ids
	// expire (ExpireIDs) a window after.
	IDs        []EventID
	IDWindow   time.Duration
	IDsStored  time.Time
	Duplicates func(b *Batch, dups []int)
	// IDsNew is set by Write: how many distinct ids of IDs the batch
	// stored as their first copy (new rows, or rows replacing expired
	// ones not yet deleted). Meaningful only when Write succeeded.
	IDsNew int
}

// Len returns the number of aggregate rows in b.
func (b *Batch) Len() int {
	return len(b.Records) + len(b.Violations) + len(b.Examples) + len(b.Cluster) + len(b.IDs)
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
	// Write merges b into the stored hourly rows and moves b's positions in
	// one transaction. When a position is not where an Advance starts, it
	// writes nothing and returns a *ConflictError.
	Write(ctx context.Context, b *Batch) error
	// Positions returns the stored positions of group's partitions.
	Positions(ctx context.Context, group string) ([]Position, error)
	// Watching returns group's first start (zero At when it never
	// started).
	Watching(ctx context.Context, group string) (WatchStart, error)
	// StartWatch records group's first start with where start_from placed
	// every watched partition and the history skipped; false when the
	// group had started already (nothing written).
	StartWatch(ctx context.Context, group string, at time.Time, ps []Position, notes []PositionNote) (bool, error)
	// InitPositions stores positions of partitions seen for the first
	// time; partitions with a stored position keep it.
	InitPositions(ctx context.Context, ps []Position) error
	// ResetPosition moves a stored position that does not match the log
	// from n.From to n.To and records n; false when it was not at n.From.
	ResetPosition(ctx context.Context, n PositionNote) (bool, error)
	// Snapshot reads everything a report needs for w in one read
	// transaction.
	Snapshot(ctx context.Context, w Window) (Snapshot, error)
	// Records returns record counts in w.
	Records(ctx context.Context, w Window) ([]RecordAgg, error)
	// Violations returns violation counts in w.
	Violations(ctx context.Context, w Window) ([]ViolationAgg, error)
	// Examples returns the stored examples observed in w.
	Examples(ctx context.Context, w Window) ([]Example, error)
	// FindExamples returns one page of examples matching q, newest first.
	FindExamples(ctx context.Context, q ExampleQuery) (ExamplePage, error)
	// Cluster returns cluster samples in w (w.Service is ignored).
	Cluster(ctx context.Context, w Window) ([]ClusterAgg, error)
	// Hours returns the records checked per stored hour, oldest first.
	Hours(ctx context.Context) ([]HourTotal, error)
	// Names returns every service and topic with stored records, sorted.
	Names(ctx context.Context) (Names, error)
	// ExpireIDs deletes at most limit (at least ExpireBatch) remembered
	// event ids stored before before and returns how many went.
	ExpireIDs(ctx context.Context, before time.Time, limit int) (int64, error)
	// RememberedIDs returns how many event ids are remembered.
	RememberedIDs(ctx context.Context) (int64, error)
	// Prune deletes rows older than before and returns how many went.
	Prune(ctx context.Context, before time.Time) (int64, error)
	// Close releases the connections.
	Close() error
}

// Names are the distinct services and topics of the stored records (the
// retention's worth): what the APIs' ?service= and ?topic= filters may name.
type Names struct {
	Services []string // producing services, sorted
	Topics   []string // topics, sorted
}

// HourOf returns the UTC hour containing t.
func HourOf(t time.Time) time.Time {
	return t.UTC().Truncate(time.Hour)
}
