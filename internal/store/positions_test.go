package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

func advance(b *store.Batch, topic string, part int32, from, to int64) *store.Batch {
	b.Advances = append(b.Advances, store.Advance{Group: "ew", Topic: topic, Partition: part, From: from, To: to})
	return b
}

// TestPositionsMoveWithAggregates: a batch's positions and aggregates are
// stored together; a batch whose Advance does not start at the stored
// position (a stale writer, a retried commit that was applied) writes
// nothing and names the actual positions, on both drivers.
func TestPositionsMoveWithAggregates(t *testing.T) {
	ctx := context.Background()
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			first := advance(advance(batch(10, 7, 3), "orders.events", 0, -1, 40), "orders.events", 1, -1, 12)
			if err := s.Write(ctx, first); err != nil {
				t.Fatalf("first write: %v", err)
			}
			if err := s.Write(ctx, advance(batch(5, 5, 0), "orders.events", 0, 40, 45)); err != nil {
				t.Fatalf("second write: %v", err)
			}
			// The same batch again (a retry after a lost acknowledgement),
			// and a writer that believes partition 1 has no position.
			for _, stale := range []*store.Batch{
				advance(batch(5, 5, 0), "orders.events", 0, 40, 45),
				advance(advance(batch(1, 1, 0), "orders.events", 0, 45, 46), "orders.events", 1, -1, 3),
			} {
				err := s.Write(ctx, stale)
				c, ok := store.IsConflict(err)
				if !ok {
					t.Fatalf("stale write: err = %v, want a conflict", err)
				}
				if len(c.Actual) != 1 || c.Actual[0].Offset != actualOf(c.Actual[0].Partition) {
					t.Fatalf("conflict = %+v", c.Actual)
				}
			}
			recs, err := s.Records(ctx, store.Window{From: h0, To: h0.Add(time.Hour)})
			if err != nil || len(recs) != 1 || recs[0].Checked != 15 {
				t.Fatalf("records = %+v, %v; want checked 15 (stale writes not applied)", recs, err)
			}
			ps, err := s.Positions(ctx, "ew")
			if err != nil || len(ps) != 2 || ps[0].Offset != 45 || ps[1].Offset != 12 {
				t.Fatalf("positions = %+v, %v; want 0@45 and 1@12", ps, err)
			}
			if other, err := s.Positions(ctx, "other-group"); err != nil || len(other) != 0 {
				t.Fatalf("positions of another group = %+v, %v", other, err)
			}
		})
	}
}

func actualOf(part int32) int64 {
	if part == 0 {
		return 45
	}
	return 12
}

// TestPositionsFenceConcurrentWriters: writers racing to advance the same
// partition from the same position: exactly one wins and its aggregates
// are the only ones stored.
func TestPositionsFenceConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			const writers = 6
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for i := range writers {
				wg.Go(func() { errs[i] = s.Write(ctx, advance(batch(1, 1, 0), "t", 0, -1, int64(10+i))) })
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else if _, ok := store.IsConflict(err); !ok {
					t.Fatalf("write: %v", err)
				}
			}
			recs, err := s.Records(ctx, store.Window{From: h0, To: h0.Add(time.Hour)})
			if won != 1 || err != nil || len(recs) != 1 || recs[0].Checked != 1 {
				t.Fatalf("winners = %d, records = %+v, %v; want exactly one", won, recs, err)
			}
		})
	}
}
