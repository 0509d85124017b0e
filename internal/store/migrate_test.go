package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigrationKeepsViolationRows upgrades a version-1 SQLite file holding
// a violation row: the row keeps its count, with an empty profile.
func TestMigrationKeepsViolationRows(t *testing.T) {
	ctx := context.Background()
	db, err := openDB(DriverSQLite, filepath.Join(t.TempDir(), "v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all := migrations
	migrations = all[:1]
	err = migrate(ctx, db, DriverSQLite)
	migrations = all
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO violation_hours VALUES (3600, 's', 't', 'e', 'key.missing', 'error', 9)`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, DriverSQLite); err != nil {
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
