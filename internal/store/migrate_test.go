package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
)

// TestMigrationKeepsViolationRows upgrades a version-1 SQLite file holding
// a violation row: the row keeps its count, with an empty profile.
func TestMigrationKeepsViolationRows(t *testing.T) {
	ctx := context.Background()
	db, rdb, err := openDB(DriverSQLite, filepath.Join(t.TempDir(), "v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer rdb.Close()
	all := migrations
	migrations = all[:1]
	err = migrate(ctx, db, DriverSQLite, "")
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO violation_hours VALUES (3600, 's', 't', 'e', 'key.missing', 'error', 9)`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, DriverSQLite, ""); err != nil {
		t.Fatal(err)
	}
	var profile string
	var n int64
	row := db.QueryRowContext(ctx, `SELECT profile, violations FROM violation_hours WHERE rule = 'key.missing'`)
	if err := row.Scan(&profile, &n); err != nil || profile != "" || n != 9 {
		t.Fatalf("after migration: profile %q, violations %d, %v", profile, n, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM violation_examples`).Scan(&n); err != nil {
		t.Fatalf("violation_examples: %v", err)
	}
	var dummy sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT name FROM sqlite_master WHERE name = 'examples'`).Scan(&dummy); err != sql.ErrNoRows {
		t.Fatalf("old examples table still there: %v", err)
	}
}

// TestMigrationAddsExampleSchemaID upgrades a version-3 store holding a
// violation example, on both drivers: the old example reads back without a
// schema id (the new column is NULL), and an example written after the
// upgrade keeps its schema id.
func TestMigrationAddsExampleSchemaID(t *testing.T) {
	for driver, source := range map[string]func(t *testing.T) string{
		DriverSQLite:   func(t *testing.T) string { return filepath.Join(t.TempDir(), "v3.db") },
		DriverPostgres: func(t *testing.T) string { return pgtest.DSN(t) },
	} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			db, rdb, err := openDB(driver, source(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if rdb != db {
				defer rdb.Close()
			}
			all := migrations
			migrations = all[:3]
			err = migrate(ctx, db, driver, "")
			migrations = all
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 11, 16, 10, 5, 0, 0, time.UTC)
			if _, err := db.ExecContext(ctx, rebind(driver, `INSERT INTO violation_examples (rule, service, topic,
				record_partition, record_offset, hour, observed_ms, event_time_ms, event_type, event_id, severity, profile,
				message, field_path) VALUES ('key.missing', 'orders', 'orders.events', 1, 7, ?, ?, ?, 'order.created.v1', 'e-7',
				'warning', 'authorworks', 'record has no key', '')`), hourKey(at), at.UnixMilli(), at.UnixMilli()); err != nil {
				t.Fatal(err)
			}
			s := &sqlStore{db: db, rdb: rdb, driver: driver, maxExamples: 10, exampleRetention: time.Hour}
			w := Window{From: HourOf(at), To: HourOf(at).Add(time.Hour)}
			ex, err := s.Examples(ctx, w) // migrates to the current version first
			if err != nil || len(ex) != 1 || ex[0].Offset != 7 || ex[0].SchemaID != 0 || ex[0].Message != "record has no key" {
				t.Fatalf("old example after migration: %+v, %v", ex, err)
			}
			var version int
			if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(migrations) {
				t.Fatalf("schema version %d, %v; want %d", version, err, len(migrations))
			}
			var nulls int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM violation_examples WHERE schema_id IS NULL`).Scan(&nulls); err != nil || nulls != 1 {
				t.Fatalf("rows with a NULL schema_id: %d, %v; want 1", nulls, err)
			}
			framed := ex[0]
			framed.Offset, framed.SchemaID = 8, 42
			if err := s.Write(ctx, &Batch{Examples: []Example{framed}}); err != nil {
				t.Fatal(err)
			}
			if ex, err = s.Examples(ctx, w); err != nil || len(ex) != 2 || ex[0].Offset != 8 || ex[0].SchemaID != 42 || ex[1].SchemaID != 0 {
				t.Fatalf("after a write on the migrated store: %+v, %v", ex, err)
			}
		})
	}
}
