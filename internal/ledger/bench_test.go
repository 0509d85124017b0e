package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// BenchmarkObserve measures the sink's hot path: one record with the
// dataset's mix of violations into the hourly aggregates (no I/O).
func BenchmarkObserve(b *testing.B) {
	st := storetest.OpenSQLite(b, b.TempDir())
	a, _ := newTestAggregator(b, st, store.Config{}, storetest.NewClock(mon17))
	obs := dataset(1, 4096, mon17)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		o := &obs[i%len(obs)]
		a.Observe(&o.Rec, &o.Res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkObserveParallel measures Observe from several sampler workers.
func BenchmarkObserveParallel(b *testing.B) {
	st := storetest.OpenSQLite(b, b.TempDir())
	a, _ := newTestAggregator(b, st, store.Config{}, storetest.NewClock(mon17))
	obs := dataset(2, 4096, mon17)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			o := &obs[i%len(obs)]
			a.Observe(&o.Rec, &o.Res)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFlush measures one flush of a busy hour (4 services, 8 event
// types, 4 rules, examples) into SQLite.
func BenchmarkFlush(b *testing.B) {
	st := storetest.OpenSQLite(b, b.TempDir())
	c := storetest.NewClock(mon17)
	a, _ := newTestAggregator(b, st, store.Config{}, c)
	obs := dataset(3, 2000, mon17)
	for b.Loop() {
		observeAll(a, obs)
		if err := a.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		c.Set(c.Now().Add(time.Hour))
	}
}

// BenchmarkFlushIDs measures the flush path with remembered event ids
// against the same path without them, on SQLite and PostgreSQL: each
// iteration observes 5,000 records with unique event ids on one partition
// (the dataset's mix of services, types and violations) and flushes them,
// aggregates, position and ids in one transaction. It reports records/s
// and CPU-µs per record of this process (SQLite works inside it, a
// PostgreSQL server outside) and, with ids, the bytes each remembered id
// takes in the store (table and index pages over rows).
func BenchmarkFlushIDs(b *testing.B) {
	for _, driver := range []string{store.DriverSQLite, store.DriverPostgres} {
		for _, withIDs := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/ids=%v", driver, withIDs), func(b *testing.B) {
				st, db := benchStore(b, driver)
				benchFlushIDs(b, st, withIDs)
				if withIDs {
					b.ReportMetric(bytesPerID(b, db, driver), "bytes/id")
				}
			})
		}
	}
}

func benchFlushIDs(b *testing.B, st store.Store, withIDs bool) {
	const n = 5000
	c := storetest.NewClock(mon17)
	var opts []Option
	if withIDs {
		opts = append(opts, WithDuplicateIDs(24*time.Hour, nil))
	}
	a, _ := newTestAggregator(b, st, store.Config{}, c, opts...)
	a.Acquire("t", 0, 0)
	obs := dataset(4, n, mon17)
	var next int64
	cpu0 := cpuTime()
	for b.Loop() {
		for i := range obs {
			o := &obs[i]
			o.Rec.Topic, o.Rec.Partition, o.Rec.Offset = "t", 0, next
			o.Res.IDCheck = event.IDCheck{Hash: uint64(next)*0x9e3779b97f4a7c15 | 1, Loc: uint64(next) + 1, At: c.Now(), Severity: event.SeverityWarning, Field: "event_id"}
			a.Observe(&o.Rec, &o.Res)
			next++
		}
		a.Advance("t", 0, next-n, next)
		if err := a.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(next), "cpu-µs/record")
}

// cpuTime is the CPU time this process used so far (user and system; a
// PostgreSQL server's work is not in it).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchStore opens a fresh store of driver and a plain connection to it.
func benchStore(b *testing.B, driver string) (store.Store, *sql.DB) {
	b.Helper()
	cfg := store.Config{}
	dir := b.TempDir()
	if driver == store.DriverPostgres {
		cfg.DSN = pgtest.DSN(b)
	}
	cfg.SetDefaults()
	st, err := store.Open(context.Background(), cfg, dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	sqlDriver, src := "pgx", cfg.DSN
	if driver == store.DriverSQLite {
		sqlDriver, src = "sqlite", filepath.Join(dir, store.DefaultFile)
	}
	db, err := sql.Open(sqlDriver, src)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return st, db
}

// bytesPerID is the size of table event_ids and its index over its rows.
func bytesPerID(b *testing.B, db *sql.DB, driver string) float64 {
	b.Helper()
	q := `SELECT SUM(pgsize) FROM dbstat WHERE name IN ('event_ids', 'event_ids_stored')`
	if driver == store.DriverPostgres {
		if _, err := db.Exec(`VACUUM ANALYZE event_ids`); err != nil {
			b.Fatal(err)
		}
		q = `SELECT pg_total_relation_size('event_ids')`
	}
	var size, rows float64
	if err := db.QueryRow(q).Scan(&size); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM event_ids`).Scan(&rows); err != nil || rows == 0 {
		b.Fatalf("count event ids: %v, %v rows", err, rows)
	}
	return size / rows
}

// BenchmarkIdleMinute measures a minute of the leader's periodic flushes
// (six, 10 s apart) on an idle estate of 500 consumer groups into SQLite:
// the held lag rows written once, nothing else. It reports the CPU and
// the cluster rows written per minute.
func BenchmarkIdleMinute(b *testing.B) {
	for _, stalled := range []bool{false, true} {
		b.Run(fmt.Sprintf("stalled=%v", stalled), func(b *testing.B) {
			st := &rowCounter{Store: storetest.OpenSQLite(b, b.TempDir())}
			c := storetest.NewClock(mon17.Add(10 * time.Minute))
			a, _ := newTestAggregator(b, st, store.Config{}, c, WithClusterSource(&steadyLag{groups: 500, stalled: stalled}))
			ctx := context.Background()
			minutes := 0
			cpu0 := cpuTime()
			for b.Loop() {
				for range 6 {
					c.Set(c.Now().Add(10 * time.Second))
					if err := a.flushDue(ctx); err != nil {
						b.Fatal(err)
					}
				}
				minutes++
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(minutes), "cpu-ms/minute")
			b.ReportMetric(float64(st.rows.Load())/float64(minutes), "rows/minute")
		})
	}
}

// rowCounter counts the cluster rows written.
type rowCounter struct {
	store.Store
	rows atomic.Int64
}

func (s *rowCounter) Write(ctx context.Context, b *store.Batch) error {
	s.rows.Add(int64(len(b.Cluster)))
	return s.Store.Write(ctx, b)
}
