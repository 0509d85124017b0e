package ledger

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// expiryStore counts ExpireIDs calls and can fail the next ones without
// deleting anything.
type expiryStore struct {
	store.Store
	calls atomic.Int64
	fail  atomic.Bool
}

func (s *expiryStore) ExpireIDs(ctx context.Context, before time.Time, limit int) (int64, error) {
	s.calls.Add(1)
	if s.fail.Load() {
		return 0, errors.New("store unavailable")
	}
	return s.Store.ExpireIDs(ctx, before, limit)
}

// TestIdleFlushesExpireOncePerMinute: a flush that wrote something expires
// remembered ids, a flush that wrote nothing does only a minute after the
// last pass (it would open a store connection for nothing every 10 s), and
// right away after a pass that failed; an id whose row was not deleted yet
// is judged exactly as a deleted one: copies beyond the window are not
// duplicates.
func TestIdleFlushesExpireOncePerMinute(t *testing.T) {
	st := &expiryStore{Store: storetest.OpenSQLite(t, t.TempDir())}
	c := storetest.NewClock(mon17.Add(3 * time.Hour))
	var found atomic.Int64
	r := newIDRig(t, st, c, "eventwatch", &found)
	flush := func(after time.Duration, want int64) {
		t.Helper()
		c.Set(c.Now().Add(after))
		if err := r.l.flushDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := st.calls.Load(); got != want {
			t.Fatalf("after a flush %s later: %d expiry passes, want %d", after, got, want)
		}
	}
	r.read(0, 0, ids(0, 5), true) // wrote ids: expires
	if st.calls.Load() != 1 {
		t.Fatalf("a flush that wrote ids: %d expiry passes, want 1", st.calls.Load())
	}
	flush(10*time.Second, 1) // idle
	flush(40*time.Second, 1) // idle, 50 s since the pass
	flush(10*time.Second, 2) // idle, a minute since the pass
	st.fail.Store(true)
	flush(60*time.Second, 3) // the pass fails
	flush(time.Second, 4)    // so the next idle flush tries again
	flush(time.Second, 5)

	c.Set(c.Now().Add(testIDWindow + time.Minute)) // every id aged past the window, none deleted
	if n, err := st.RememberedIDs(context.Background()); err != nil || n != 5 {
		t.Fatalf("remembered %d, %v; want the 5 rows not deleted", n, err)
	}
	r.read(1, 0, ids(0, 5), true)
	if found.Load() != 0 {
		t.Fatalf("copies of ids older than the window whose rows were not deleted: %d duplicates, want 0", found.Load())
	}
}
