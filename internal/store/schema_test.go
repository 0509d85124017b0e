package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
)

// TestSchemasKeepDeploymentsApart: two deployments (chart releases) on one
// PostgreSQL database, each with its own store.schema, keep separate
// reports and positions: what one writes the other never reads, a third
// opening of the first schema sees the first's rows, and the tables are
// in the named schemas (none in public).
func TestSchemasKeepDeploymentsApart(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	openSchema := func(schema string) store.Store {
		t.Helper()
		cfg := store.Config{DSN: dsn, Schema: schema}
		cfg.SetDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		s, err := store.Open(ctx, cfg, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := openSchema("ew_release_a"), openSchema("ew_release_b")
	if err := a.Write(ctx, batch(5, 4, 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, batch(2, 2, 0)); err != nil {
		t.Fatal(err)
	}
	w := store.Window{From: h0, To: h0.Add(time.Hour)}
	for name, tc := range map[string]struct {
		s    store.Store
		want int64
	}{"a": {a, 5}, "b": {b, 2}, "a again": {openSchema("ew_release_a"), 5}} {
		recs, err := tc.s.Records(ctx, w)
		if err != nil || len(recs) != 1 || recs[0].Checked != tc.want {
			t.Errorf("release %s reads %+v, %v; want one row with %d checked", name, recs, err, tc.want)
		}
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var inPublic, inA int
	q := `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'record_hours'`
	if err := db.QueryRowContext(ctx, q, "public").Scan(&inPublic); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, q, "ew_release_a").Scan(&inA); err != nil {
		t.Fatal(err)
	}
	if inPublic != 0 || inA != 1 {
		t.Errorf("record_hours tables: %d in public, %d in ew_release_a; want 0 and 1", inPublic, inA)
	}
}
