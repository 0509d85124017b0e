package dlq

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// lookCounter counts the looks for running replays of a real store.
type lookCounter struct {
	store.ReplayStore
	looks atomic.Int64
}

func (c *lookCounter) Replays(ctx context.Context, state string, limit int) ([]store.Replay, error) {
	c.looks.Add(1)
	return c.ReplayStore.Replays(ctx, state, limit)
}

func replayStore(t *testing.T) *lookCounter {
	t.Helper()
	cfg := store.Config{}
	cfg.SetDefaults()
	st, err := store.Open(context.Background(), cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rs, ok := st.(store.ReplayStore)
	if !ok {
		t.Fatal("the SQLite store keeps no replays")
	}
	return &lookCounter{ReplayStore: rs}
}

// TestResumeLooksOnlyWhenOneCanBeStale: with no running replay the
// replayer looks once per resume_after, not at every tick; a replay of
// another process that makes progress is looked at again when it can be
// stale, and taken over then, at the first tick at or after the moment the
// look at every tick took it over; a replay of this process that ends
// makes the next tick look.
func TestResumeLooksOnlyWhenOneCanBeStale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := replayStore(t)
	const after = 15 * time.Second
	r := NewReplayer(ReplayConfig{ResumeAfter: after, Rate: 50, MaxRecords: 10}, nil, st, nil, nil, prometheus.NewRegistry(), nil)
	tick := after / 3
	start := time.Now()
	for i := range 7 { // ticks at 0, 5, ... 30 s: looks at 0, 15 and 30 s
		r.poll(ctx, start.Add(time.Duration(i)*tick))
	}
	if n := st.looks.Load(); n != 3 {
		t.Fatalf("looked %d times in 30 s without a running replay, want 3 (every %s)", n, after)
	}

	rp := store.Replay{ID: "other-1", Created: time.Now(), State: store.ReplayRunning, Owner: "another-process", Marks: "{}"}
	if _, err := st.CreateReplay(ctx, rp, nil, false); err != nil {
		t.Fatal(err)
	}
	seen, err := st.Replay(ctx, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	stale := seen.Updated.Add(after + time.Millisecond) // the first moment TakeOver succeeds (milliseconds, strictly after)
	now := stale.Add(-2 * tick)
	r.nextLook = time.Time{} // the looks above ran ahead of the clock the replay was created with: start again from it
	before := st.looks.Load()
	var tookAt time.Time
	for i := 0; tookAt.IsZero() && i < 10; i++ {
		r.poll(ctx, now)
		if got, err := st.Replay(ctx, rp.ID); err != nil {
			t.Fatal(err)
		} else if got.Owner == r.owner {
			tookAt = now
		}
		now = now.Add(tick)
	}
	if tookAt.IsZero() || tookAt.Before(stale) || !tookAt.Before(stale.Add(tick+time.Millisecond)) {
		t.Fatalf("taken over at %s, want the first tick after %s", tookAt, stale)
	}
	if n := st.looks.Load() - before; n != 2 { // when it appeared, and when it could be stale
		t.Errorf("looked %d times at the other process's replay, want 2", n)
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	r.mu.Lock()
	r.ctx, r.nextLook = done, now.Add(time.Hour)
	r.mu.Unlock()
	r.launch("ends-at-once") // this process's replay, ending at once (its context is done)
	wait.Within(t, 10*time.Second, "the replay ended", func() bool { return !r.isRunning("ends-at-once") })
	before = st.looks.Load()
	r.poll(ctx, now)
	if st.looks.Load() != before+1 {
		t.Error("no look at the tick after a replay of this process ended")
	}
}
