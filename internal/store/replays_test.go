package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// TestReplayClaims: a dead letter is claimed by one replay at a time and
// sent once; a second replay of it claims nothing unless forced, and force
// never takes one another replay still has pending; only the owner moves
// its items and finishes it, and a stale replay can be taken over.
func TestReplayClaims(t *testing.T) {
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) { testReplayClaims(t, mk(t).(store.ReplayStore)) })
	}
}

func testReplayClaims(t *testing.T, rs store.ReplayStore) {
	ctx := context.Background()
	items := []store.ReplayItem{{Topic: "d", Partition: 0, Offset: 1, Target: "o"}, {Topic: "d", Partition: 0, Offset: 2, Target: "o"}}
	r1 := store.Replay{ID: "r1", Created: time.Now(), RequestedBy: "a", Selection: "{}", State: store.ReplayRunning, Marks: "{}", Owner: "p1"}
	got, err := rs.CreateReplay(ctx, r1, items, false)
	if err != nil || len(got) != 2 {
		t.Fatalf("first claim = %v, %v", got, err)
	}
	r2 := r1
	r2.ID = "r2"
	if got, err := rs.CreateReplay(ctx, r2, items, true); err != nil || len(got) != 0 {
		t.Fatalf("forced claim of pending items = %v, %v; want none", got, err)
	}
	if err := rs.MarkSent(ctx, "r1", "p2", items[:1]); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("MarkSent by a non-owner = %v, want store.ErrFenced", err)
	}
	if err := rs.MarkSent(ctx, "r1", "p1", items); err != nil {
		t.Fatal(err)
	}
	if pend, _ := rs.PendingItems(ctx, "r1"); len(pend) != 0 {
		t.Fatalf("pending after MarkSent = %v", pend)
	}
	r3 := r1
	r3.ID = "r3"
	if got, _ := rs.CreateReplay(ctx, r3, items, false); len(got) != 0 {
		t.Fatalf("unforced claim of sent items = %v, want none", got)
	}
	r4 := r1
	r4.ID, r4.Owner = "r4", "p4"
	if got, _ := rs.CreateReplay(ctx, r4, items, true); len(got) != 2 {
		t.Fatalf("forced claim of sent items = %v, want both", got)
	}
	if ok, _ := rs.TakeOver(ctx, "r4", "p5", time.Now().Add(-time.Hour)); ok {
		t.Fatal("a fresh replay was taken over")
	}
	if ok, _ := rs.TakeOver(ctx, "r4", "p5", time.Now().Add(time.Hour)); !ok {
		t.Fatal("a stale replay was not taken over")
	}
	if err := rs.FinishReplay(ctx, "r4", "p4", store.ReplayDone, ""); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("finish by the old owner = %v, want store.ErrFenced", err)
	}
	rp, err := rs.Replay(ctx, "r1")
	if err != nil || rp.Sent != 2 || rp.Planned != 2 {
		t.Fatalf("replay r1 = %+v, %v", rp, err)
	}
	if list, _ := rs.Replays(ctx, store.ReplayRunning, 10); len(list) != 4 {
		t.Fatalf("running replays = %d, want 4", len(list))
	}
	if _, err := rs.Replay(ctx, "nope"); !errors.Is(err, store.ErrNoReplay) {
		t.Fatalf("unknown replay err = %v", err)
	}
}
