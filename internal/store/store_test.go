package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// drivers returns a fresh store per driver: SQLite in a temp dir and a real
// PostgreSQL database.
func drivers(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"sqlite":   func(t *testing.T) store.Store { return open(t, "", t.TempDir()) },
		"postgres": func(t *testing.T) store.Store { return open(t, pgtest.DSN(t), "") },
	}
}

func open(t *testing.T, dsn, dir string) store.Store {
	t.Helper()
	cfg := store.Config{DSN: dsn, MaxExamples: 2}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), cfg, dir, nil)
	if err != nil {
		t.Fatalf("open %q: %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var h0 = time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)

func batch(checked, compliant, viol int64, offsets ...int64) *store.Batch {
	b := &store.Batch{
		Records:    []store.RecordAgg{{Hour: h0.Add(17 * time.Minute), Service: "orders", Topic: "orders.events", EventType: "order.created.v1", Checked: checked, Compliant: compliant}},
		Violations: []store.ViolationAgg{{Hour: h0, Service: "orders", Topic: "orders.events", EventType: "order.created.v1", Rule: "envelope.missing_field", Severity: "error", Violations: viol}},
		Cluster:    []store.ClusterAgg{{Hour: h0, Kind: store.KindPropagation, Name: "orders", Value: float64(compliant), Total: float64(checked)}},
	}
	for _, o := range offsets {
		b.Examples = append(b.Examples, store.Example{Observed: h0.Add(time.Duration(o) * time.Second), Service: "orders", Topic: "orders.events",
			EventType: "order.created.v1", Rule: "envelope.missing_field", Severity: "error", Profile: "huleedu",
			Message: "required field event_id is missing", Field: "event_id",
			Partition: 1, Offset: o, EventID: "e-" + string(rune('a'+o)), Time: h0.Add(time.Duration(o) * time.Second)})
	}
	return b
}

// TestStoreMergesHourlyRows checks that two writes to the same hour add up
// (the restart and multi-replica model), examples stay bounded and the
// window and service filters select the right rows, on both drivers.
func TestStoreMergesHourlyRows(t *testing.T) {
	ctx := context.Background()
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			if s.Driver() != name {
				t.Fatalf("driver = %q", s.Driver())
			}
			for _, b := range []*store.Batch{batch(10, 7, 3, 1, 2), batch(5, 5, 1, 2, 3, 4)} {
				if err := s.Write(ctx, b); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			w := store.Window{From: h0, To: h0.Add(time.Hour)}
			recs, err := s.Records(ctx, w)
			if err != nil || len(recs) != 1 || recs[0].Checked != 15 || recs[0].Compliant != 12 || !recs[0].Hour.Equal(h0) {
				t.Fatalf("records = %+v, %v; want one row checked 15 compliant 12 at %s", recs, err, h0)
			}
			viols, err := s.Violations(ctx, w)
			if err != nil || len(viols) != 1 || viols[0].Violations != 4 {
				t.Fatalf("violations = %+v, %v; want 4", viols, err)
			}
			ex, err := s.Examples(ctx, w)
			if err != nil || len(ex) != 2 || ex[0].Offset != 4 || ex[1].Offset != 3 || ex[0].EventID != "e-e" ||
				ex[0].Message != "required field event_id is missing" || ex[0].Field != "event_id" || ex[0].Profile != "huleedu" {
				t.Fatalf("examples = %+v, %v; want the newest two, offsets 4 and 3, with their reason", ex, err)
			}
			cl, err := s.Cluster(ctx, w)
			if err != nil || len(cl) != 1 || cl[0].Value != 12 || cl[0].Total != 15 {
				t.Fatalf("cluster = %+v, %v; want 12/15", cl, err)
			}
			checkFilters(t, s)
		})
	}
}

func checkFilters(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	if recs, _ := s.Records(ctx, store.Window{From: h0.Add(time.Hour), To: h0.Add(2 * time.Hour)}); len(recs) != 0 {
		t.Errorf("next hour has rows: %+v", recs)
	}
	if recs, _ := s.Records(ctx, store.Window{From: h0, To: h0.Add(time.Hour), Service: "billing"}); len(recs) != 0 {
		t.Errorf("service filter ignored: %+v", recs)
	}
	hours, err := s.Hours(ctx)
	if err != nil || len(hours) != 1 || hours[0].Checked != 15 {
		t.Errorf("hours = %+v, %v", hours, err)
	}
	n, err := s.Prune(ctx, h0.Add(time.Hour))
	if err != nil || n != 5 {
		t.Errorf("prune removed %d rows, %v; want 5", n, err)
	}
	if hours, _ := s.Hours(ctx); len(hours) != 0 {
		t.Errorf("rows left after prune: %+v", hours)
	}
}

// TestStoreReopenKeepsData checks migrations are idempotent and data
// survives a reopen of the SQLite file.
func TestStoreReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := open(t, "sqlite://"+filepath.Join(dir, "r.db"), "")
	if err := s.Write(context.Background(), batch(3, 3, 0)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, "r.db", dir)
	recs, err := s.Records(context.Background(), store.Window{From: h0, To: h0.Add(time.Hour)})
	if err != nil || len(recs) != 1 || recs[0].Checked != 3 {
		t.Fatalf("after reopen: %+v, %v", recs, err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  store.Config
		want string
	}{
		{store.Config{DSN: "mysql://x"}, `store.dsn: unsupported scheme in "mysql://x"`},
		{store.Config{RetentionWeeks: -1}, "store.retention_weeks: must be between 1 and 520, got -1"},
		{store.Config{FlushInterval: time.Millisecond}, "store.flush_interval: must be >= 50ms, got 1ms"},
		{store.Config{MaxExamples: 500}, "store.max_examples_per_key: must be between 1 and 100, got 500"},
		{store.Config{BufferLimit: -3}, "store.buffer_limit: must be >= 1, got -3"},
		{store.Config{Schema: "Release-A"}, `store.schema: must be a lower-case PostgreSQL identifier (a-z, 0-9, _; at most 63; not starting with a digit), got "Release-A"`},
		{store.Config{Schema: "a; DROP TABLE x"}, `store.schema: must be a lower-case PostgreSQL identifier`},
	}
	for _, tt := range tests {
		tt.cfg.SetDefaults()
		err := tt.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestTargetAndRedact(t *testing.T) {
	tests := []struct{ dsn, driver, source string }{
		{"", store.DriverSQLite, "/data/eventwatch.db"},
		{"sqlite:///var/lib/ew.db", store.DriverSQLite, "/var/lib/ew.db"},
		{"sub/x.db", store.DriverSQLite, "/data/sub/x.db"},
		{"postgres://u:p@db:5432/ew", store.DriverPostgres, "postgres://u:p@db:5432/ew"},
	}
	for _, tt := range tests {
		c := store.Config{DSN: tt.dsn}
		d, s, err := c.Target("/data")
		if err != nil || d != tt.driver || s != tt.source {
			t.Errorf("Target(%q) = %s %s %v", tt.dsn, d, s, err)
		}
	}
	if got := store.Redact("postgres://u:secret@db/ew"); strings.Contains(got, "secret") {
		t.Errorf("Redact kept the password: %s", got)
	}
}

// TestConcurrentMigrations opens one fresh PostgreSQL database from several
// replicas at once: the advisory lock lets exactly one migrate, the others
// see the current schema, and all of them can write.
func TestConcurrentMigrations(t *testing.T) {
	dsn := pgtest.DSN(t)
	const replicas = 4
	errs := make(chan error, replicas)
	stores := make(chan store.Store, replicas)
	for range replicas {
		go func() {
			cfg := store.Config{DSN: dsn}
			cfg.SetDefaults()
			s, err := store.Open(context.Background(), cfg, "", nil)
			if err == nil {
				err = s.Write(context.Background(), batch(1, 1, 0))
				stores <- s
			}
			errs <- err
		}()
	}
	for range replicas {
		if err := <-errs; err != nil {
			t.Errorf("replica: %v", err)
		}
	}
	close(stores)
	var last store.Store
	for s := range stores {
		t.Cleanup(func() { s.Close() })
		last = s
	}
	if last == nil {
		t.Fatal("no replica opened the store")
	}
	recs, err := last.Records(context.Background(), store.Window{From: h0, To: h0.Add(time.Hour)})
	if err != nil || len(recs) != 1 || recs[0].Checked != replicas {
		t.Fatalf("records %+v, %v; want one row with %d checked", recs, err, replicas)
	}
}

// TestNames: the distinct services and topics of stored records, sorted,
// on both drivers; an empty store knows none.
func TestNames(t *testing.T) {
	ctx := context.Background()
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			if n, err := s.Names(ctx); err != nil || len(n.Services)+len(n.Topics) != 0 {
				t.Fatalf("empty store: %+v, %v", n, err)
			}
			b := batch(1, 1, 0)
			b.Records = append(b.Records,
				store.RecordAgg{Hour: h0, Service: "billing", Topic: "billing.events", EventType: "x", Checked: 1},
				store.RecordAgg{Hour: h0.Add(time.Hour), Service: "orders", Topic: "orders.audit", EventType: "x", Checked: 1})
			if err := s.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
			n, err := s.Names(ctx)
			if err != nil || strings.Join(n.Services, ",") != "billing,orders" || strings.Join(n.Topics, ",") != "billing.events,orders.audit,orders.events" {
				t.Fatalf("names = %+v, %v", n, err)
			}
		})
	}
}
