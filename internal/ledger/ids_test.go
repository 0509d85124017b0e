package ledger

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
	"github.com/eventwatch/eventwatch/internal/testutil/tier"
)

const testIDWindow = 24 * time.Hour

// idRig is one eventwatch process: a real huleedu engine (its own
// in-process duplicate window) feeding a ledger that remembers ids.
type idRig struct {
	t     *testing.T
	eng   *audit.Engine
	l     *Ledger
	reg   *prometheus.Registry
	found *atomic.Int64 // duplicates the ledger reported after commits
}

func newIDRig(t *testing.T, st store.Store, c *storetest.Clock, group string, found *atomic.Int64) *idRig {
	t.Helper()
	return newIDRigWindow(t, st, c, group, found, testIDWindow)
}

// newIDRigWindow is newIDRig with the ledger remembering ids for window.
func newIDRigWindow(t *testing.T, st store.Store, c *storetest.Clock, group string, found *atomic.Int64, window time.Duration) *idRig {
	t.Helper()
	eng := enginetest.Engine(t, "huleedu", audit.Options{Now: c.Now, DuplicateWindow: testIDWindow})
	l, reg := newTestAggregator(t, st, store.Config{}, c, WithGroup(group),
		WithDuplicateIDs(window, func(exs []store.Example) { found.Add(int64(len(exs))) }))
	return &idRig{t: t, eng: eng, l: l, reg: reg, found: found}
}

const idTopic = "huleedu.dev.essaylifecycle.essay"

func idValue(id string) []byte {
	return fmt.Appendf(nil, `{"event_id":%q,"event_type":"huleedu.essaylifecycle.essay.spellcheck_requested.v1",`+
		`"event_timestamp":"2026-11-16T03:00:00+00:00","source_service":"essay_lifecycle_service",`+
		`"correlation_id":"8c1d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f","data":{"entity_ref":{"entity_id":"e","entity_type":"essay"}}}`, id)
}

// ids returns n event ids numbered from first.
func ids(first, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("0b7c1e2d-0000-4000-8000-%012d", first+i)
	}
	return out
}

// read audits the records carrying ids at partition part from offset
// from on (acquiring the partition first when acquire is set), closes
// their range and flushes.
func (r *idRig) read(part int32, from int64, ids []string, acquire bool) {
	r.t.Helper()
	if acquire {
		r.l.Acquire(idTopic, part, from)
	}
	r.observe(part, from, ids)
	if err := r.l.Flush(context.Background()); err != nil {
		r.t.Fatalf("flush: %v", err)
	}
}

func (r *idRig) observe(part int32, from int64, ids []string) {
	at := r.l.now()
	for i, id := range ids {
		rec := event.Record{Topic: idTopic, Partition: part, Offset: from + int64(i), Timestamp: at, Value: idValue(id)}
		res := r.eng.Check(&rec)
		r.l.Observe(&rec, &res)
	}
	r.l.Advance(idTopic, part, from, from+int64(len(ids)))
}

// storedDuplicates sums the stored duplicate.event_id violations and
// checked records of the test hour, and counts the duplicate examples.
func storedDuplicates(t *testing.T, st store.Store, hour time.Time) (dups, checked, compliant int64) {
	t.Helper()
	ctx := context.Background()
	w := store.Window{From: store.HourOf(hour), To: store.HourOf(hour).Add(time.Hour)}
	snap, err := st.Snapshot(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range snap.Violations {
		if v.Rule == event.RuleDuplicateEventID {
			dups += v.Violations
		}
	}
	for _, r := range snap.Records {
		checked += r.Checked
		compliant += r.Compliant
	}
	return dups, checked, compliant
}

func idStores(t *testing.T) map[string]func() store.Store {
	return map[string]func() store.Store{
		"sqlite":   func() store.Store { return storetest.OpenSQLite(t, t.TempDir()) },
		"postgres": func() store.Store { tier.Slow(t, "starts PostgreSQL"); return storetest.OpenDSN(t, pgtest.DSN(t)) },
	}
}

// TestDuplicateIDsAcrossRestarts: copies of 100 ids read by a new process
// after a restart are 100 duplicates, whichever process read the first
// copy; records read again after a crash (nothing stored) or by another
// sampler group (the same offsets) never are; copies one process sees
// twice are counted once. SQLite and PostgreSQL.
func TestDuplicateIDsAcrossRestarts(t *testing.T) {
	for name, mk := range idStores(t) {
		t.Run(name, func(t *testing.T) {
			st := mk()
			c := storetest.NewClock(mon17.Add(3 * time.Hour))
			var found atomic.Int64
			first := ids(0, 100)

			crashed := newIDRig(t, st, c, "eventwatch", &found)
			crashed.l.Acquire(idTopic, 0, 0)
			crashed.observe(0, 0, first) // kill -9 before any flush: nothing stored

			r := newIDRig(t, st, c, "eventwatch", &found) // restart: p0 read again from the start
			r.read(0, 0, first, true)
			if d, _, _ := storedDuplicates(t, st, c.Now()); d != 0 {
				t.Fatalf("records read again after a crash: %d duplicates, want 0", d)
			}
			r = newIDRig(t, st, c, "eventwatch", &found) // restart: the copies arrive on p1
			r.read(1, 0, first, true)
			if d, _, _ := storedDuplicates(t, st, c.Now()); d != 100 || found.Load() != 100 {
				t.Fatalf("copies after a restart: %d duplicates stored, %d reported; want 100", d, found.Load())
			}
			r = newIDRig(t, st, c, "eventwatch", &found) // third copies and their in-process copies
			r.l.Acquire(idTopic, 2, 0)
			r.l.Acquire(idTopic, 3, 0)
			r.observe(2, 0, first)
			r.observe(3, 0, first) // flagged by the in-process window: counted once, not again from the store
			if err := r.l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			other := newIDRig(t, st, c, "audit-2", &found) // another sampler group reads p0 again
			other.read(0, 0, first, true)
			dups, checked, compliant := storedDuplicates(t, st, c.Now())
			if dups != 300 || found.Load() != 200 || checked != 500 || compliant != checked {
				t.Fatalf("stored %d duplicates (%d found in the store), %d checked, %d compliant; want 300 (200), 500, 500", dups, found.Load(), checked, compliant)
			}
			page, err := st.FindExamples(context.Background(), store.ExampleQuery{Rule: event.RuleDuplicateEventID, Limit: 10})
			if err != nil || len(page.Examples) == 0 || page.Examples[0].EventID == "" || page.Examples[0].Field != "event_id" || page.Examples[0].Severity != "warning" {
				t.Fatalf("duplicate examples: %+v, %v", page.Examples, err)
			}
		})
	}
}

// TestDuplicateIDsTwoReplicas: two replicas sharing one PostgreSQL read the
// two copies of 100 ids on their own partitions and flush concurrently, in
// ten rounds: exactly 100 duplicates, each found by one of them.
func TestDuplicateIDsTwoReplicas(t *testing.T) {
	tier.Slow(t, "starts PostgreSQL")
	dsn := pgtest.DSN(t)
	c := storetest.NewClock(mon17.Add(3 * time.Hour))
	var found atomic.Int64
	reps := []*idRig{newIDRig(t, storetest.OpenDSN(t, dsn), c, "eventwatch", &found), newIDRig(t, storetest.OpenDSN(t, dsn), c, "eventwatch", &found)}
	for i, r := range reps {
		r.l.Acquire(idTopic, int32(i), 0)
	}
	all := ids(0, 100)
	for round := range 10 {
		var wg sync.WaitGroup
		for i, r := range reps {
			wg.Go(func() {
				r.observe(int32(i), int64(10*round), all[10*round:10*round+10])
				if err := r.l.Flush(context.Background()); err != nil {
					t.Errorf("replica %d round %d: %v", i, round, err)
				}
			})
		}
		wg.Wait()
	}
	dups, checked, _ := storedDuplicates(t, storetest.OpenDSN(t, dsn), c.Now())
	if dups != 100 || found.Load() != 100 || checked != 200 {
		t.Fatalf("two replicas: %d duplicates stored, %d found, %d checked; want 100, 100, 200", dups, found.Load(), checked)
	}
}

// TestDuplicateIDErrorSeverity: where a profile makes duplicate.event_id
// an error, a duplicate found in the store makes its record non-compliant,
// so checked = compliant + records with an error still holds.
func TestDuplicateIDErrorSeverity(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(3 * time.Hour))
	var found atomic.Int64
	for i, loc := range []uint64{11, 22} {
		l, _ := newTestAggregator(t, st, store.Config{}, c, WithDuplicateIDs(time.Hour, func(exs []store.Example) { found.Add(int64(len(exs))) }))
		l.Acquire("t", int32(i), 0)
		rec := event.Record{Topic: "t", Partition: int32(i), Offset: 0}
		res := event.Result{EventID: "x", Source: "s", EventType: "e", Profile: "p",
			IDCheck: event.IDCheck{Hash: 7, Loc: loc, At: c.Now(), Severity: event.SeverityError, Field: "id"}}
		l.Observe(&rec, &res)
		l.Advance("t", int32(i), 0, 1)
		if err := l.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	dups, checked, compliant := storedDuplicates(t, st, c.Now())
	if dups != 1 || checked != 2 || compliant != 1 || found.Load() != 1 {
		t.Fatalf("%d duplicates, %d checked, %d compliant, %d found; want 1, 2, 1, 1", dups, checked, compliant, found.Load())
	}
}

// TestDuplicateIDsExpire: ids are forgotten a window after they were
// stored (the flush expires them), and a copy then is not a duplicate.
func TestDuplicateIDsExpire(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(3 * time.Hour))
	var found atomic.Int64
	r := newIDRig(t, st, c, "eventwatch", &found)
	r.read(0, 0, ids(0, 50), true)
	if n, err := st.RememberedIDs(context.Background()); err != nil || n != 50 {
		t.Fatalf("remembered %d, %v; want 50", n, err)
	}
	c.Set(c.Now().Add(testIDWindow + time.Minute))
	if err := r.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := st.RememberedIDs(context.Background()); err != nil || n != 0 {
		t.Fatalf("remembered after a window: %d, %v; want 0", n, err)
	}
	r = newIDRig(t, st, c, "eventwatch", &found)
	r.read(1, 0, ids(0, 50), true)
	if found.Load() != 0 {
		t.Fatalf("copies of expired ids: %d duplicates, want 0", found.Load())
	}
}
