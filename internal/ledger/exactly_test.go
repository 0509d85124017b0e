package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/sample"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

const topic = "orders.events"

// ruleAuditor turns a value "ok", "bad" or "warn" (plus a suffix) into a
// compliant record, an error of rule r.bad, or a warning of rule r.warn.
type ruleAuditor struct{}

func (ruleAuditor) Check(rec *event.Record) event.Result {
	res := event.Result{Source: "orders", EventType: "order.created.v1"}
	switch {
	case strings.HasPrefix(string(rec.Value), "bad"):
		res.Violations = []event.Violation{{Rule: "r.bad", Severity: event.SeverityError}}
	case strings.HasPrefix(string(rec.Value), "warn"):
		res.Violations = []event.Violation{{Rule: "r.warn", Severity: event.SeverityWarning}}
	}
	return res
}

// want is what a run produced: the counts the report must hold exactly.
type want struct{ checked, compliant, bad, warn int64 }

func (w *want) add(v string) {
	w.checked++
	switch {
	case strings.HasPrefix(v, "bad"):
		w.bad++
	case strings.HasPrefix(v, "warn"):
		w.warn++
		w.compliant++
	default:
		w.compliant++
	}
}

// crashStore is a store whose writes fail once crashed: the replica using
// it loses everything it holds in memory, as after kill -9.
type crashStore struct {
	store.Store
	down atomic.Bool
}

func (c *crashStore) Write(ctx context.Context, b *store.Batch) error {
	if c.down.Load() {
		return errors.New("crashed")
	}
	return c.Store.Write(ctx, b)
}

// replica is one sampler + aggregator pair, like one eventwatch process.
type replica struct {
	st     *crashStore
	reg    *prometheus.Registry
	agg    *ledger.Ledger
	seen   countedSink // r.agg, counting the records it is handed
	s      *sample.Sampler
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// countedSink counts the records handed to a sink: started before and
// done after the sink's Observe returned.
type countedSink struct {
	event.Sink
	started, done atomic.Int64
}

func (c *countedSink) Observe(rec *event.Record, res *event.Result) {
	c.started.Add(1)
	c.Sink.Observe(rec, res)
	c.done.Add(1)
}

func startReplica(t *testing.T, c *kfake.Cluster, st store.Store, scfg store.Config) *replica {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("EXACTLY_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r := &replica{st: &crashStore{Store: st}, reg: reg}
	r.agg = ledger.New(r.st, scfg, reg, log, ledger.WithGroup("ew"))
	r.seen.Sink = r.agg
	var cfg sample.Config
	cfg.SetDefaults()
	cfg.GroupID, cfg.StartFrom = "ew", sample.StartEarliest
	cfg.MetadataRefresh, cfg.CommitInterval, cfg.BudgetPerPartition, cfg.Workers = time.Second, 200*time.Millisecond, 1e6, 3
	base := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	s, err := sample.New(cfg, base, ruleAuditor{}, []event.Sink{&r.seen}, reg, log, sample.WithLedger(r.agg))
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	r.agg.SetListener(s)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	sinkCtx, stopSink := context.WithCancel(context.Background())
	r.wg.Go(func() {
		defer stopSink()
		_ = s.Run(ctx)
	})
	r.wg.Go(func() { _ = r.agg.Run(sinkCtx) })
	t.Cleanup(r.stop)
	return r
}

// crash makes the replica lose what it did not store, then stops it.
func (r *replica) crash() {
	r.st.down.Store(true)
	r.stop()
}

// crashMidFlight crashes the replica once it holds audited records it
// can never store: its store fails from now, more is produced, and it
// crashes after its ledger took in a record handed to it after that
// moment (not merely one that was in flight before it).
func (r *replica) crashMidFlight(t *testing.T, more func()) {
	t.Helper()
	r.st.down.Store(true)
	before := r.seen.started.Load()
	more()
	wait.For(t, "the replica to audit records it cannot store", func() bool {
		return r.seen.done.Load() > before && metric(t, r.reg, "eventwatch_store_buffered_aggregates") > 0
	})
	r.stop()
}

func (r *replica) stop() {
	r.cancel()
	r.wg.Wait()
}

// producer writes values to the topic in the background.
type producer struct {
	mu   sync.Mutex
	want want
	n    int
}

func (p *producer) produce(t *testing.T, cl *kgo.Client, n int) {
	t.Helper()
	kinds := []string{"ok", "ok", "bad", "warn", "ok"}
	var recs []*kgo.Record
	p.mu.Lock()
	for range n {
		v := fmt.Sprintf("%s-%d", kinds[p.n%len(kinds)], p.n)
		p.n++
		p.want.add(v)
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(v)})
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// totals reads the report counts of all stored hours.
func totals(t *testing.T, st store.Store) want {
	t.Helper()
	ctx := context.Background()
	w := store.Window{From: time.Unix(0, 0), To: time.Now().Add(24 * time.Hour)}
	recs, err := st.Records(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	viols, err := st.Violations(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	var got want
	for _, r := range recs {
		got.checked += r.Checked
		got.compliant += r.Compliant
	}
	for _, v := range viols {
		switch v.Rule {
		case "r.bad":
			got.bad += v.Violations
		case "r.warn":
			got.warn += v.Violations
		}
	}
	return got
}

func waitTotals(t *testing.T, st store.Store, w want) {
	t.Helper()
	var got want
	wait.Describe(t, 40*time.Second, func() string {
		return fmt.Sprintf("the report to hold what was produced, %+v; it holds %+v", w, got)
	}, func() bool {
		got = totals(t, st)
		if got.checked > w.checked {
			t.Fatalf("report holds %+v, produced %+v (counted twice)", got, w)
		}
		return got == w
	})
}

func newCluster(t *testing.T) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cl := kfaketest.Client(t, c, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	return c, cl
}

// TestExactThroughCrashesAndRebalances produces while replicas crash,
// join and leave: every record is counted exactly once in the end, on
// SQLite and PostgreSQL.
func TestExactThroughCrashesAndRebalances(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			c, cl := newCluster(t)
			st, second := open(t)
			scfg := store.Config{FlushInterval: 300 * time.Millisecond}
			var p producer
			a := startReplica(t, c, st, scfg)
			p.produce(t, cl, 500)
			wait.For(t, "first flush", func() bool { return totals(t, st).checked > 0 })
			b := startReplica(t, c, second, scfg) // a second replica: the partitions split
			wait.For(t, "partitions split", func() bool {
				return a.s.Status().AssignedPartitions > 0 && b.s.Status().AssignedPartitions > 0 &&
					a.s.Status().AssignedPartitions+b.s.Status().AssignedPartitions == partitions
			})
			p.produce(t, cl, 500)
			// a crashes mid-flight, with records audited but not all stored:
			// its unstored aggregates are lost; its partitions move to b
			a.crashMidFlight(t, func() { p.produce(t, cl, 250) })
			p.produce(t, cl, 250)
			wait.For(t, "b owns every partition", func() bool { return b.s.Status().AssignedPartitions == partitions })
			// b crashes soon after taking over, mid-flight
			b.crashMidFlight(t, func() { p.produce(t, cl, 250) })
			p.produce(t, cl, 250)
			d := startReplica(t, c, st, scfg)
			p.produce(t, cl, 300)
			waitTotals(t, st, p.want)
			d.stop()
			if got := totals(t, st); got != p.want {
				t.Fatalf("after a clean stop the report holds %+v, produced %+v", got, p.want)
			}
		})
	}
}

// TestStoreOutageBackPressure: with the store down the replica audits into
// its buffer until it is full, then pauses fetching (eventwatch_sampler_paused)
// instead of dropping; a crash during the outage loses nothing (the stored
// position did not move), and once the store is back the counts are exact.
func TestStoreOutageBackPressure(t *testing.T) {
	c, cl := newCluster(t)
	st := storetest.OpenSQLite(t, t.TempDir())
	scfg := store.Config{FlushInterval: 200 * time.Millisecond, BufferLimit: 40}
	var p producer
	a := startReplica(t, c, st, scfg)
	p.produce(t, cl, 200)
	waitTotals(t, st, p.want)
	a.st.down.Store(true) // the store is unreachable
	p.produce(t, cl, 2000)
	wait.For(t, "fetching paused", func() bool { return a.s.Status().Paused })
	if got := metric(t, a.reg, "eventwatch_sampler_paused"); got != 1 {
		t.Fatalf("eventwatch_sampler_paused = %v, want 1", got)
	}
	if got := metric(t, a.reg, "eventwatch_store_dropped_aggregates_total"); got != 0 {
		t.Fatalf("dropped aggregates = %v during the outage, want 0", got)
	}
	a.crash()
	b := startReplica(t, c, st, scfg)
	b.st.down.Store(true)
	p.produce(t, cl, 100)
	wait.For(t, "fetching paused again", func() bool { return b.s.Status().Paused })
	b.st.down.Store(false) // the store is back
	waitTotals(t, st, p.want)
	wait.For(t, "fetching resumed", func() bool { return !b.s.Status().Paused })
}

const partitions = 6

// stores opens a pair of handles on one fresh store per driver (two
// replicas each have their own).
func stores() map[string]func(t *testing.T) (store.Store, store.Store) {
	return map[string]func(t *testing.T) (store.Store, store.Store){
		"sqlite": func(t *testing.T) (store.Store, store.Store) {
			dir := t.TempDir()
			return storetest.OpenSQLite(t, dir), storetest.OpenSQLite(t, dir)
		},
		"postgres": func(t *testing.T) (store.Store, store.Store) {
			dsn := pgtest.DSN(t)
			return storetest.OpenDSN(t, dsn), storetest.OpenDSN(t, dsn)
		},
	}
}

func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return sum
}
