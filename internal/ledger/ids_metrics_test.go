package ledger

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// TestRememberedIDsMetrics: eventwatch_store_event_ids follows the rows of
// table event_ids through new ids, copies (not new rows), expiry and a
// restart (counted afresh at the first flush), and
// eventwatch_store_expired_event_ids_total counts what expiry deleted.
// Within the hour between exact counts the gauge is kept from the
// flushes' inserts and expiries, which this test checks against the
// table's real count. SQLite and PostgreSQL.
func TestRememberedIDsMetrics(t *testing.T) {
	for name, mk := range idStores(t) {
		t.Run(name, func(t *testing.T) { testRememberedIDsMetrics(t, mk()) })
	}
}

func testRememberedIDsMetrics(t *testing.T, st store.Store) {
	c := storetest.NewClock(mon17.Add(3 * time.Hour))
	const window = 30 * time.Minute
	var found atomic.Int64
	r := newIDRigWindow(t, st, c, "eventwatch", &found, window)
	check := func(step string, wantIDs, wantExpired float64) {
		t.Helper()
		stored, err := st.RememberedIDs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := metricstest.Value(t, r.reg, "eventwatch_store_event_ids", nil)
		exp := metricstest.Value(t, r.reg, "eventwatch_store_expired_event_ids_total", nil)
		if got != wantIDs || float64(stored) != wantIDs || exp != wantExpired {
			t.Fatalf("%s: gauge %v, table %d, expired %v; want %v ids, %v expired", step, got, stored, exp, wantIDs, wantExpired)
		}
	}
	r.read(0, 0, ids(0, 50), true) // first flush: counted exactly
	check("first 50 ids", 50, 0)
	c.Set(c.Now().Add(10 * time.Minute))
	r.read(0, 50, ids(50, 30), false) // within the hour: kept from the inserts
	check("30 more", 80, 0)
	c.Set(c.Now().Add(25 * time.Minute)) // the first 50 are older than the window
	if err := r.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("first 50 expired", 30, 50)

	r = newIDRigWindow(t, st, c, "eventwatch", &found, window) // a restart
	if err := r.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("after restart", 30, 0)
	r.read(1, 0, ids(50, 10), true) // copies of stored ids: duplicates, no new rows
	if found.Load() != 10 {
		t.Fatalf("copies: %d duplicates found, want 10", found.Load())
	}
	check("copies", 30, 0)
}
