package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Open connects to the store cfg names, creating the SQLite file in dataDir
// when needed, and applies pending migrations. It fails when the store cannot
// be reached at start; later outages are the caller's to buffer.
func Open(ctx context.Context, cfg Config, dataDir string, log *slog.Logger) (Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "store")
	driver, source, err := cfg.Target(dataDir)
	if err != nil {
		return nil, fmt.Errorf("resolve store dsn: %w", err)
	}
	db, rdb, err := openDB(driver, source)
	if err != nil {
		return nil, err
	}
	cfg.SetDefaults()
	s := &sqlStore{db: db, rdb: rdb, driver: driver, schema: cfg.Schema, maxExamples: cfg.MaxExamples, exampleRetention: cfg.ExampleRetention}
	if err := s.ensureSchema(ctx); err != nil {
		if driver == DriverSQLite {
			_ = s.Close()
			return nil, err
		}
		// A PostgreSQL server that is down at start is an outage like any
		// other: every operation retries the migration until it succeeds.
		log.Warn("report store unreachable at start; will retry", "target", Redact(source), "err", err)
	}
	log.Info("report store open", "driver", driver, "target", Redact(source))
	return s, nil
}

// ensureSchema applies pending migrations once per process.
func (s *sqlStore) ensureSchema(ctx context.Context) error {
	if s.migrated.Load() {
		return nil
	}
	s.migrateMu.Lock()
	defer s.migrateMu.Unlock()
	if s.migrated.Load() {
		return nil
	}
	if err := migrate(ctx, s.db, s.driver, s.schema); err != nil {
		return fmt.Errorf("migrate %s store: %w", s.driver, err)
	}
	s.migrated.Store(true)
	return nil
}

// readBusyTimeout is how long a SQLite read waits for a lock another
// process holds before it fails (and the API answers 503): short, so a
// locked file never makes a report request hang.
const readBusyTimeout = time.Second

// openDB opens the write pool and the read pool. PostgreSQL serves both
// from one pool. SQLite writes go through one connection (it serialises
// writers inside this process; other processes are handled by WAL and the
// busy timeout) and reads through their own connections, which WAL lets
// run beside a write: a read never queues behind a flush and its retries.
// A write lock another process holds therefore blocks flushes only (they
// are retried, the records buffered) while reads answer from the last
// commit; a lock that blocks readers too (locking_mode=EXCLUSIVE, taken
// while eventwatch's connections are idle and closed, see sqliteIdle)
// fails reads within readBusyTimeout.
func openDB(driver, source string) (*sql.DB, *sql.DB, error) {
	if driver == DriverPostgres {
		db, err := sql.Open("pgx", source)
		if err != nil {
			return nil, nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(4)
		return db, db, nil
	}
	if err := os.MkdirAll(filepath.Dir(source), 0o750); err != nil {
		return nil, nil, fmt.Errorf("create store directory: %w", err)
	}
	uri := sqliteURIPath(source)
	dsn := "file:" + uri + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite %s: %w", source, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(sqliteIdle)
	rdsn := "file:" + uri + "?_pragma=busy_timeout(" + strconv.Itoa(int(readBusyTimeout.Milliseconds())) + ")&_pragma=query_only(1)"
	rdb, err := sql.Open("sqlite", rdsn)
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("open sqlite %s for reading: %w", source, err)
	}
	rdb.SetMaxOpenConns(4)
	rdb.SetConnMaxIdleTime(sqliteIdle)
	return db, rdb, nil
}

// sqliteURIPath escapes the characters a SQLite URI filename gives a
// meaning ('%', '?', '#'), so a data directory like "run#2" is opened as
// itself, not cut at the '#'.
func sqliteURIPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// migrations are applied in order; entry i is schema version i+1. Types are
// chosen to mean the same thing in SQLite and PostgreSQL. Never edit an
// applied entry: append a new one.
var migrations = [][]string{{
	`CREATE TABLE record_hours (
		hour BIGINT NOT NULL, service TEXT NOT NULL, topic TEXT NOT NULL, event_type TEXT NOT NULL,
		checked BIGINT NOT NULL, compliant BIGINT NOT NULL,
		PRIMARY KEY (hour, service, topic, event_type))`,
	`CREATE TABLE violation_hours (
		hour BIGINT NOT NULL, service TEXT NOT NULL, topic TEXT NOT NULL, event_type TEXT NOT NULL,
		rule TEXT NOT NULL, severity TEXT NOT NULL, violations BIGINT NOT NULL,
		PRIMARY KEY (hour, service, topic, event_type, rule, severity))`,
	`CREATE TABLE examples (
		hour BIGINT NOT NULL, service TEXT NOT NULL, topic TEXT NOT NULL, event_type TEXT NOT NULL,
		rule TEXT NOT NULL, record_partition INTEGER NOT NULL, record_offset BIGINT NOT NULL,
		event_id TEXT NOT NULL, event_time_ms BIGINT NOT NULL,
		PRIMARY KEY (hour, service, topic, event_type, rule, record_partition, record_offset))`,
	`CREATE TABLE cluster_hours (
		hour BIGINT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
		value DOUBLE PRECISION NOT NULL, total DOUBLE PRECISION NOT NULL,
		PRIMARY KEY (hour, kind, name))`,
	`CREATE INDEX violation_hours_service ON violation_hours (service, hour)`,
	`CREATE INDEX record_hours_service ON record_hours (service, hour)`,
}, {
	// 2: violations by profile (a rule broken under two profiles is two
	// rows), and violation examples with their reason, the most recent per
	// (rule, service, topic) instead of the first per hour.
	`CREATE TABLE violation_hours_p (
		hour BIGINT NOT NULL, service TEXT NOT NULL, topic TEXT NOT NULL, event_type TEXT NOT NULL,
		rule TEXT NOT NULL, severity TEXT NOT NULL, profile TEXT NOT NULL, violations BIGINT NOT NULL,
		PRIMARY KEY (hour, service, topic, event_type, rule, severity, profile))`,
	`INSERT INTO violation_hours_p (hour, service, topic, event_type, rule, severity, profile, violations)
		SELECT hour, service, topic, event_type, rule, severity, '', violations FROM violation_hours`,
	`DROP TABLE violation_hours`,
	`ALTER TABLE violation_hours_p RENAME TO violation_hours`,
	`CREATE INDEX violation_hours_service ON violation_hours (service, hour)`,
	`CREATE TABLE violation_examples (
		rule TEXT NOT NULL, service TEXT NOT NULL, topic TEXT NOT NULL,
		record_partition INTEGER NOT NULL, record_offset BIGINT NOT NULL,
		hour BIGINT NOT NULL, observed_ms BIGINT NOT NULL, event_time_ms BIGINT NOT NULL,
		event_type TEXT NOT NULL, event_id TEXT NOT NULL, severity TEXT NOT NULL, profile TEXT NOT NULL,
		message TEXT NOT NULL, field_path TEXT NOT NULL,
		PRIMARY KEY (rule, service, topic, record_partition, record_offset))`,
	`CREATE INDEX violation_examples_observed ON violation_examples (observed_ms)`,
	`CREATE INDEX violation_examples_hour ON violation_examples (hour, service)`,
	`DROP TABLE examples`,
}, {
	// 3: how far each partition's records are counted, moved in
	// the same transaction as the aggregates (exactly-once accounting).
	`CREATE TABLE positions (
		group_id TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL,
		next_offset BIGINT NOT NULL,
		PRIMARY KEY (group_id, topic, part))`,
}, {
	// 4: the Confluent Schema Registry schema id of a framed value on its
	// violation examples; NULL for an unframed value and for rows written
	// before.
	`ALTER TABLE violation_examples ADD COLUMN schema_id INTEGER`,
}, {
	// 5: dead-letter replays: the audit log (one row per replay, dry runs
	// included) and, per dead letter, which replay sent its original —
	// claimed and moved pending -> sent with conditional updates, the
	// same optimistic fence as positions (replays.go).
	`CREATE TABLE dlq_replays (
		id TEXT PRIMARY KEY, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
		requested_by TEXT NOT NULL, selection TEXT NOT NULL, state TEXT NOT NULL,
		planned BIGINT NOT NULL, sent BIGINT NOT NULL, skipped BIGINT NOT NULL,
		marks TEXT NOT NULL, error TEXT NOT NULL, owner TEXT NOT NULL)`,
	`CREATE TABLE dlq_replayed (
		dlq_topic TEXT NOT NULL, part INTEGER NOT NULL, record_offset BIGINT NOT NULL,
		replay_id TEXT NOT NULL, state TEXT NOT NULL, target_topic TEXT NOT NULL, updated_ms BIGINT NOT NULL,
		PRIMARY KEY (dlq_topic, part, record_offset))`,
	`CREATE INDEX dlq_replayed_replay ON dlq_replayed (replay_id, state)`,
}, {
	// 6: when each sampler group first started watching the estate and
	// where start_from placed each partition then, and
	// the ranges of partitions skipped or read again rather than counted in
	// order (history skipped by start_from, stored positions that did not
	// match the log), for the report's notes.
	`CREATE TABLE watch_starts (group_id TEXT NOT NULL PRIMARY KEY, started_ms BIGINT NOT NULL)`,
	`CREATE TABLE start_positions (
		group_id TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL, start_offset BIGINT NOT NULL,
		PRIMARY KEY (group_id, topic, part))`,
	`CREATE TABLE position_notes (
		group_id TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL, kind TEXT NOT NULL,
		observed_ms BIGINT NOT NULL, hour BIGINT NOT NULL,
		from_offset BIGINT NOT NULL, to_offset BIGINT NOT NULL, records BIGINT NOT NULL,
		PRIMARY KEY (group_id, topic, part, kind, observed_ms))`,
	`CREATE INDEX position_notes_hour ON position_notes (hour)`,
}, {
	// 7: event ids remembered for duplicate.event_id across restarts and
	// replicas (eventids.go): the id hash, where its first copy was read
	// (location hash), its record time and when it was stored (expiry).
	// On SQLite the id is the rowid (no separate key index).
	sqliteOnly + `CREATE TABLE event_ids (id INTEGER PRIMARY KEY, loc BIGINT NOT NULL, seen_ms BIGINT NOT NULL, stored_ms BIGINT NOT NULL)`,
	postgresOnly + `CREATE TABLE event_ids (id BIGINT PRIMARY KEY, loc BIGINT NOT NULL, seen_ms BIGINT NOT NULL, stored_ms BIGINT NOT NULL)`,
	`CREATE INDEX event_ids_stored ON event_ids (stored_ms)`,
}}

// Prefixes of a migration statement run on one driver only.
const (
	sqliteOnly   = "sqlite: "
	postgresOnly = "postgres: "
)

// forDriver returns stmt without its driver prefix, and whether it runs on
// driver.
func forDriver(stmt, driver string) (string, bool) {
	switch {
	case strings.HasPrefix(stmt, sqliteOnly):
		return strings.TrimPrefix(stmt, sqliteOnly), driver == DriverSQLite
	case strings.HasPrefix(stmt, postgresOnly):
		return strings.TrimPrefix(stmt, postgresOnly), driver == DriverPostgres
	}
	return stmt, true
}

// migrationLock is the PostgreSQL advisory lock key that serialises replicas
// migrating the same database.
const migrationLock = 7_746_570_011

// migrate applies the pending migrations in one transaction; on
// PostgreSQL it first creates schema (when set: the connections' search_path
// names it), under the lock.
func migrate(ctx context.Context, db *sql.DB, driver, schema string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if driver == DriverPostgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if schema != "" { // validated as a plain identifier (Config.Validate)
			if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
				return fmt.Errorf("create schema %s: %w", schema, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this build knows (%d)", current, len(migrations))
	}
	for v := current; v < len(migrations); v++ {
		for _, stmt := range migrations[v] {
			stmt, ok := forDriver(stmt, driver)
			if !ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("apply migration %d: %w", v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, rebind(driver, `INSERT INTO schema_migrations (version) VALUES (?)`), v+1); err != nil {
			return fmt.Errorf("record migration %d: %w", v+1, err)
		}
	}
	return tx.Commit()
}
