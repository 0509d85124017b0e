package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
)

const idWindow = time.Hour

// idBatch is a batch of ids with the window and a Duplicates hook that
// counts each duplicate as a violation row (what the ledger does) and
// returns, after Write, which ids were duplicates.
func idBatch(stored time.Time, ids ...store.EventID) (*store.Batch, *[]int) {
	var got []int
	b := &store.Batch{IDs: ids, IDWindow: idWindow, IDsStored: stored}
	b.Duplicates = func(b *store.Batch, dups []int) {
		got = slices.Clone(dups)
		b.Violations = append(b.Violations, store.ViolationAgg{Hour: h0, Service: "orders", Topic: "orders.events",
			EventType: "order.created.v1", Rule: "duplicate.event_id", Severity: "warning", Violations: int64(len(dups))})
	}
	return b, &got
}

func eid(hash, loc uint64, at time.Time) store.EventID {
	return store.EventID{Hash: hash, Loc: loc, At: at}
}

func duplicatesStored(t *testing.T, s store.Store) int64 {
	t.Helper()
	vs, err := s.Violations(context.Background(), store.Window{From: h0, To: h0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, v := range vs {
		if v.Rule == "duplicate.event_id" {
			n += v.Violations
		}
	}
	return n
}

// TestEventIDsJudgeCopies writes ids in several batches (one process, then
// "another" after a restart) and checks which are duplicates: the same id
// at another location within the window is, the same location (a re-read)
// never is, copies more than a window apart are not, and a batch whose
// positions conflict leaves no id behind. Both drivers.
func TestEventIDsJudgeCopies(t *testing.T) {
	ctx := context.Background()
	t0 := h0.Add(10 * time.Minute)
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			steps := []struct {
				name string
				ids  []store.EventID
				want []int
			}{
				{"first copies", []store.EventID{eid(1, 11, t0), eid(2, 21, t0), eid(1<<63|5, 51, t0)}, nil},
				{"copies, re-reads and a copy inside the batch", []store.EventID{
					eid(1, 12, t0.Add(time.Minute)), // copy of 1 at another offset
					eid(2, 21, t0),                  // 2 read again at the same offset
					eid(3, 31, t0), eid(3, 32, t0),  // 3 twice in one batch
					eid(1<<63|5, 52, t0.Add(-time.Minute)), // negative stored hash, earlier record time
				}, []int{0, 3, 4}},
				{"a copy more than a window later owns the id again", []store.EventID{eid(1, 13, t0.Add(idWindow+2*time.Minute))}, nil},
				{"and its copy is judged against it", []store.EventID{eid(1, 14, t0.Add(idWindow+3*time.Minute)), eid(1, 13, t0.Add(idWindow+2*time.Minute))}, []int{0}},
			}
			var total int64
			for _, st := range steps {
				b, got := idBatch(t0, st.ids...)
				if err := s.Write(ctx, b); err != nil {
					t.Fatalf("%s: write: %v", st.name, err)
				}
				if !slices.Equal(*got, st.want) {
					t.Fatalf("%s: duplicates %v, want %v", st.name, *got, st.want)
				}
				total += int64(len(st.want))
			}
			if n := duplicatesStored(t, s); n != total {
				t.Fatalf("stored duplicate.event_id = %d, want %d", n, total)
			}

			// a batch whose position conflicts writes nothing, ids included
			if err := s.Write(ctx, &store.Batch{Advances: []store.Advance{{Group: "g", Topic: "t", Partition: 0, From: -1, To: 5}}}); err != nil {
				t.Fatal(err)
			}
			b, _ := idBatch(t0, eid(9, 91, t0))
			b.Advances = []store.Advance{{Group: "g", Topic: "t", Partition: 0, From: 3, To: 8}}
			if _, ok := store.IsConflict(s.Write(ctx, b)); !ok {
				t.Fatal("stale advance: want a conflict")
			}
			b, got := idBatch(t0, eid(9, 92, t0))
			if err := s.Write(ctx, b); err != nil || len(*got) != 0 {
				t.Fatalf("id of a rolled back batch was remembered: dups %v, %v", *got, err)
			}
		})
	}
}

// TestEventIDsConcurrentReplicas has two writers flush the same ids, each
// copy at its own location, concurrently and in many small batches: every
// id is a duplicate exactly once, whoever commits first. On PostgreSQL the
// two writers are two stores (two connection pools, like two replicas).
func TestEventIDsConcurrentReplicas(t *testing.T) {
	ctx := context.Background()
	const ids, per = 2000, 50
	t0 := h0.Add(5 * time.Minute)
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			a, b := twoReplicas(t, name, mk)
			var wg sync.WaitGroup
			found := make([]int, 2)
			for r, s := range []store.Store{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for start := 0; start < ids; start += per {
						var batch []store.EventID
						for i := start; i < start+per; i++ {
							h := uint64(i)*0x9e3779b97f4a7c15 | 1
							batch = append(batch, eid(h, uint64(1000*r+i), t0))
						}
						bt, got := idBatch(t0, batch...)
						if err := s.Write(ctx, bt); err != nil {
							t.Errorf("replica %d: %v", r, err)
							return
						}
						found[r] += len(*got)
					}
				}()
			}
			wg.Wait()
			if found[0]+found[1] != ids {
				t.Fatalf("duplicates found %d + %d, want %d (each id once)", found[0], found[1], ids)
			}
			if n := duplicatesStored(t, a); n != ids {
				t.Fatalf("stored duplicate.event_id = %d, want %d", n, ids)
			}
			if n, err := a.RememberedIDs(ctx); err != nil || n != ids {
				t.Fatalf("remembered %d ids, %v; want %d", n, err, ids)
			}
		})
	}
}

// twoReplicas returns two stores on one database: two connection pools on
// PostgreSQL, the one store twice on SQLite (one replica only).
func twoReplicas(t *testing.T, driver string, mk func(t *testing.T) store.Store) (store.Store, store.Store) {
	t.Helper()
	if driver != store.DriverPostgres {
		s := mk(t)
		return s, s
	}
	dsn := pgtest.DSN(t)
	return open(t, dsn, ""), open(t, dsn, "")
}

// TestEventIDsExpire stores ids at two times and expires the older ones in
// bounded batches; a copy of an expired id is not a duplicate.
func TestEventIDsExpire(t *testing.T) {
	ctx := context.Background()
	old, recent := h0, h0.Add(2*idWindow)
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			n := store.ExpireBatch + 500
			var ids []store.EventID
			for i := range n {
				ids = append(ids, eid(uint64(i+1), 1, old))
			}
			if err := s.Write(ctx, &store.Batch{IDs: ids, IDWindow: idWindow, IDsStored: old}); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, &store.Batch{IDs: []store.EventID{eid(1<<40, 1, recent)}, IDWindow: idWindow, IDsStored: recent}); err != nil {
				t.Fatal(err)
			}
			cut := recent.Add(-idWindow)
			for _, want := range []int64{store.ExpireBatch, 500, 0} {
				got, err := s.ExpireIDs(ctx, cut, 1)
				if err != nil || got != want {
					t.Fatalf("expire: %d, %v; want %d", got, err, want)
				}
			}
			if left, err := s.RememberedIDs(ctx); err != nil || left != 1 {
				t.Fatalf("remembered after expiry: %d, %v; want 1", left, err)
			}
			b, got := idBatch(recent, eid(1, 2, old.Add(time.Minute)))
			if err := s.Write(ctx, b); err != nil || len(*got) != 0 {
				t.Fatalf("copy of an expired id: dups %v, %v; want none", *got, err)
			}
		})
	}
}
