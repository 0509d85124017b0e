package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// TestStoreUnavailable stops a real PostgreSQL under the aggregator: flushes
// fail and are counted, rows stay buffered up to the limit, rows beyond it
// are dropped and counted, and everything buffered lands once the server is
// back.
func TestStoreUnavailable(t *testing.T) {
	srv := pgtest.Start(t)
	cfg := store.Config{DSN: srv.NewDatabase(t), BufferLimit: 50}
	cfg.SetDefaults()
	st, err := store.Open(context.Background(), cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := storetest.NewClock(mon17.Add(5 * time.Hour))
	a, _ := newTestAggregator(t, st, cfg, c)
	ctx := context.Background()
	observe := func(n int, eventType func(i int) string) {
		for i := range n {
			a.Observe(&event.Record{Topic: "orders.events", Offset: int64(i)}, &event.Result{Source: "orders", EventType: eventType(i)})
		}
	}
	same := func(int) string { return "order.placed.v1" }
	observe(10, same)
	if err := a.Flush(ctx); err != nil {
		t.Fatalf("flush with the server up: %v", err)
	}

	srv.Stop(t)
	observe(200, same) // one row
	if err := a.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with the server stopped")
	}
	observe(100, func(i int) string { return fmt.Sprintf("order.variant%d.v1", i) }) // 100 new rows, 49 fit
	if err := a.Flush(ctx); err == nil {
		t.Fatal("second flush succeeded with the server stopped")
	}
	if got := testutil.ToFloat64(a.m.buffered); got != 50 {
		t.Errorf("buffered = %v, want the limit 50", got)
	}
	if got := testutil.ToFloat64(a.m.dropped); got != 51 {
		t.Errorf("dropped = %v, want 51", got)
	}
	if got := testutil.ToFloat64(a.m.flushes.WithLabelValues("error")); got != 2 {
		t.Errorf("failed flushes = %v, want 2", got)
	}

	srv.StartAgain(t)
	if err := a.Flush(ctx); err != nil {
		t.Fatalf("flush after the server came back: %v", err)
	}
	r, err := report.Build(ctx, st, report.Week{Year: 2026, Num: 47}, "", time.UTC, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Checked != 10+200+49 || testutil.ToFloat64(a.m.buffered) != 0 {
		t.Errorf("stored %d records (want 259), buffered %v", r.Summary.Checked, testutil.ToFloat64(a.m.buffered))
	}
	if got := testutil.ToFloat64(a.m.flushes.WithLabelValues("ok")); got != 2 {
		t.Errorf("ok flushes = %v, want 2", got)
	}
}

// TestStoreDownAtStart opens a PostgreSQL store while the server is down:
// Open succeeds, writes fail until the server is up, then the schema is
// created and the buffered data lands.
func TestStoreDownAtStart(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	srv.Stop(t)
	cfg := store.Config{DSN: dsn}
	cfg.SetDefaults()
	st, err := store.Open(context.Background(), cfg, "", nil)
	if err != nil {
		t.Fatalf("open with the server down: %v", err)
	}
	defer st.Close()
	c := storetest.NewClock(mon17)
	a, _ := newTestAggregator(t, st, cfg, c)
	a.Observe(&event.Record{Topic: "t"}, &event.Result{Source: "s"})
	if err := a.Flush(context.Background()); err == nil {
		t.Fatal("flush succeeded with the server down")
	}
	srv.StartAgain(t)
	if err := a.Flush(context.Background()); err != nil {
		t.Fatalf("flush after start: %v", err)
	}
	if recs, err := st.Records(context.Background(), store.Window{From: mon17, To: mon17.Add(time.Hour)}); err != nil || len(recs) != 1 {
		t.Fatalf("records %+v, %v", recs, err)
	}
}
