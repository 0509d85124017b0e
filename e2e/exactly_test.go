//go:build e2e

package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite" // "sqlite" database/sql driver, to lock the daemon's store

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// exTopicsOf are the sampled topics of one run of the exactly-once test
// (3 partitions each).
func exTopicsOf(name string) []string {
	return []string{"huleedu.e2e" + name + ".exact.batch", "huleedu.e2e" + name + ".exact.essay"}
}

// exExpect is what the report must hold: computed by auditing every
// produced record offline with the daemon's profile.
type exExpect struct {
	mu        sync.Mutex
	eng       *audit.Engine
	checked   int64
	compliant int64
	rules     map[string]int64
	n         int
	topics    []string
}

// newExExpect starts event ids at first, so runs never share one.
func newExExpect(t *testing.T, topics []string, first int) *exExpect {
	eng := enginetest.Engine(t, "huleedu", audit.Options{DuplicateWindow: time.Hour})
	return &exExpect{eng: eng, rules: map[string]int64{}, topics: topics, n: first}
}

// batch returns the next n records of the mix: compliant events, invalid
// JSON and wrongly named events (several rules), each with its own id.
func (e *exExpect) batch(n int) []*kgo.Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*kgo.Record, 0, n)
	for range n {
		i := e.n
		e.n++
		var v []byte
		switch i % 5 {
		case 3:
			v = []byte(fmt.Sprintf("\xff\x00not json %d", i))
		case 4:
			v = dmEvent(i, dmBadTense)
		default:
			v = dmEvent(i, dmGoodType)
		}
		out = append(out, &kgo.Record{Topic: e.topics[i%len(e.topics)], Value: v})
	}
	return out
}

// produced records the offline audit of records the broker acknowledged.
func (e *exExpect) produced(recs []*kgo.Record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range recs {
		res := e.eng.Check(&event.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Value: r.Value})
		e.checked++
		if res.Compliant() {
			e.compliant++
		}
		for _, v := range res.Violations {
			e.rules[v.Rule]++
		}
	}
}

// acked is how many produced records the broker acknowledged so far.
func (e *exExpect) acked() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checked
}

func (e *exExpect) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return exFormat(e.checked, e.compliant, e.rules)
}

func exFormat(checked, compliant int64, rules map[string]int64) string {
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "checked=%d compliant=%d", checked, compliant)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, rules[k])
	}
	return b.String()
}

// exProducer produces the mix at about 250 records a second while running.
type exProducer struct {
	t      *testing.T
	cl     *kgo.Client
	want   *exExpect
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *exProducer) start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pctx, cancel := context.WithCancel(ctx)
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
			recs := p.want.batch(25)
			if err := p.cl.ProduceSync(context.WithoutCancel(pctx), recs...).FirstErr(); err != nil {
				p.t.Errorf("produce: %v", err)
				return
			}
			p.want.produced(recs)
		}
	}()
}

// stop ends producing once the batch in flight is acknowledged.
func (p *exProducer) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
		<-p.done
		p.cancel = nil
	}
}

// waitProduced waits until the broker acknowledged n more records of the
// running producer.
func (p *exProducer) waitProduced(n int64) {
	p.t.Helper()
	from := p.want.acked()
	dmEventually(p.t, fmt.Sprintf("%d more records produced", n), 60*time.Second, func() bool { return p.want.acked() >= from+n })
}

// exStore is the report store of one run: how to name it in the config,
// and how to make it unavailable and available again.
type exStore struct {
	dsn    string // store.dsn; "" for the SQLite file in the data dir
	down   func(t testing.TB)
	up     func(t testing.TB)
	lockDB *sql.DB
}

func exSQLite(dataDir string) *exStore {
	s := &exStore{}
	path := filepath.Join(dataDir, "data", "eventwatch.db")
	var tx *sql.Tx
	s.down = func(t testing.TB) {
		// Another process holds the database's write lock: every flush of
		// the daemon times out, as with a store that is down.
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		s.lockDB = db
		if tx, err = db.Begin(); err == nil {
			_, err = tx.Exec(`INSERT INTO positions (group_id, topic, part, next_offset) VALUES ('lock', 'lock', 0, 0) ON CONFLICT DO NOTHING`)
		}
		if err != nil {
			t.Fatalf("lock the store: %v", err)
		}
	}
	s.up = func(t testing.TB) {
		_ = tx.Rollback()
		_ = s.lockDB.Close()
	}
	return s
}

func exPostgres(t *testing.T) *exStore {
	srv := pgtest.Start(t)
	return &exStore{dsn: srv.NewDatabase(t), down: srv.Stop, up: srv.StartAgain}
}

// exRun is one eventwatch deployment (data dir, config) whose process the
// test kills and restarts.
type exRun struct {
	t      *testing.T
	ctx    context.Context
	bin    string
	broker string
	dir    string
	extra  string
	p      *dmProc
	topics []string
}

func (r *exRun) start() time.Time {
	r.t.Helper()
	started := time.Now()
	r.p = dmStartProc(r.ctx, r.t, r.bin, r.broker, r.dir, 10*time.Second, r.extra)
	return started
}

func (r *exRun) kill() {
	r.t.Helper()
	r.p.kill(r.t)
}

func (r *exRun) term() {
	r.t.Helper()
	if err := r.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.t.Fatal(err)
	}
	if err := r.p.cmd.Wait(); err != nil {
		r.t.Fatalf("eventwatch after SIGTERM: %v\n%s", err, r.p.log.String())
	}
	r.p.alive = false
}

// waitAssigned waits until the running process samples n partitions.
func (r *exRun) waitAssigned(n float64) {
	r.t.Helper()
	dmEventually(r.t, fmt.Sprintf("%v partitions assigned", n), 60*time.Second, func() bool {
		return r.p.d.metric(r.t, "eventwatch_sampler_assigned_partitions") == n
	})
}

// checked is eventwatch_records_checked_total of the running process.
func (r *exRun) checked() float64 {
	var n float64
	for _, topic := range r.topics {
		n += r.p.d.metric(r.t, "eventwatch_records_checked_total", `topic="`+topic+`"`)
	}
	return n
}

// flushes is eventwatch_store_flushes_total{result=result} of the running
// process.
func (r *exRun) flushes(result string) float64 {
	return r.p.d.metric(r.t, "eventwatch_store_flushes_total", `result="`+result+`"`)
}

// unstored reports whether the running process holds audited aggregates it
// has not stored yet.
func (r *exRun) unstored() bool {
	return r.p.d.metric(r.t, "eventwatch_store_buffered_aggregates") > 0
}

// waitStored waits until a flush that began after the call succeeded (two
// more successful flushes): what the process audited before is stored.
func (r *exRun) waitStored(what string) {
	r.t.Helper()
	n := r.flushes("ok")
	dmEventually(r.t, what, 60*time.Second, func() bool { return r.flushes("ok") >= n+2 })
}

// restartAfterKill restarts and checks auditing resumes within 10s.
func (r *exRun) restartAfterKill() {
	r.t.Helper()
	started := r.start()
	dmEventually(r.t, "auditing resumed after kill -9", 20*time.Second, func() bool { return r.checked() > 0 })
	if took := time.Since(started); took > 10*time.Second {
		r.t.Errorf("auditing resumed %.1fs after the restart, want <= 10s", took.Seconds())
	} else {
		r.t.Logf("auditing resumed %.1fs after the restart", took.Seconds())
	}
}

// TestExactlyOnceRealKafka produces a known mix while the daemon (a real
// child process) is killed with SIGKILL at several moments, the broker is
// killed, the store becomes unavailable and the daemon crashes during that
// outage, and a SIGTERM restart, then checks that the weekly report holds
// exactly the produced numbers: records checked, compliant and every
// rule's count, and no duplicate.event_id. For SQLite and PostgreSQL.
func TestExactlyOnceRealKafka(t *testing.T) {
	b, ctx, dir, bin := dmRealKafka(t, 8*time.Minute, realkafka.WithProperty("num.partitions", "3"))
	adm := kadm.NewClient(b.Client(t))
	for i, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			for _, topic := range exTopicsOf(name) {
				dmCreateTopic(ctx, t, adm, topic)
			}
			runDir := filepath.Join(dir, name)
			st := exSQLite(runDir)
			if name == "postgres" {
				st = exPostgres(t)
			}
			exScenario(ctx, t, b, bin, runDir, st, name, newExExpect(t, exTopicsOf(name), i*1_000_000))
		})
	}
}

func exScenario(ctx context.Context, t *testing.T, b *realkafka.Broker, bin, dir string, st *exStore, name string, want *exExpect) {
	prod := &exProducer{t: t, cl: b.Client(t), want: want}
	extra := fmt.Sprintf("sample:\n  group_id: exact-%s\n  start_from: earliest\n  budget_per_partition: 1000000\n  metadata_refresh: 2s\n  commit_interval: 1s\n"+
		"  instance_id: exact-%s-0\n  session_timeout: 10s\n  topics_include: ['huleedu\\.e2e%s\\.exact\\..*']\n"+
		"store:\n  flush_interval: 2s\n  dsn: %q\n", name, name, name, st.dsn)
	r := &exRun{t: t, ctx: ctx, bin: bin, broker: b.Addr(), dir: dir, extra: extra, topics: want.topics}
	prod.start(ctx)
	r.start()
	r.p.d.waitReady(t)

	// 1. kill -9 before the first flush (2s)
	dmEventually(t, "first records audited", 30*time.Second, func() bool { return r.checked() > 0 })
	r.kill()
	r.restartAfterKill()

	// 2. kill -9 right after a commit of the stored positions
	group := "exact-" + name
	adm := kadm.NewClient(b.Client(t))
	committed := exCommitted(ctx, adm, group, want.topics)
	dmEventually(t, "a commit", 30*time.Second, func() bool { return exCommitted(ctx, adm, group, want.topics) > committed })
	r.kill()
	prod.waitProduced(750) // a backlog builds up (3 s of producing)
	r.restartAfterKill()

	// 3. kill -9 during the catch-up, twice within one session timeout:
	// first as soon as it holds audited aggregates not stored, then once
	// part of the catch-up is stored (the commit moved) and more is not
	dmEventually(t, "audited aggregates not stored yet", 30*time.Second, r.unstored)
	r.kill()
	committed = exCommitted(ctx, adm, group, want.topics)
	r.restartAfterKill()
	dmEventually(t, "part of the catch-up stored and committed, more audited after it", 30*time.Second, func() bool {
		return exCommitted(ctx, adm, group, want.topics) > committed && r.unstored()
	})
	r.kill()
	r.restartAfterKill()

	// 4. the broker is killed and restarted: nothing counted twice, no
	// false duplicate.event_id
	r.waitStored("the restarted process to store what it audited")
	prod.stop()
	b.Kill() // returns once the broker process exited: connections are refused
	dmEventually(t, "/readyz not ready while the broker is down (the probe failed)", 60*time.Second, func() bool {
		code, _ := r.p.d.get(t, "/readyz")
		return code != 200
	})
	b.Restart()
	prod.start(ctx)
	before := r.checked()
	dmEventually(t, "auditing after the broker restart", 60*time.Second, func() bool { return r.checked() > before })
	// Ready as soon as sampling resumed, not only after the next probe.
	dmEventually(t, "/readyz 200 once sampling resumed", 3*time.Second, func() bool {
		code, _ := r.p.d.get(t, "/readyz")
		return code == 200
	})

	// 5. the store becomes unavailable, the daemon crashes during the
	// outage, the store comes back
	r.waitStored("the process to store again after the broker restart")
	st.down(t)
	checked, failed := r.checked(), r.flushes("error")
	dmEventually(t, "records audited into the buffer, not stored (a flush failed)", 60*time.Second, func() bool {
		return r.checked() > checked && r.flushes("error") > failed && r.unstored()
	})
	r.kill()
	st.up(t)
	r.restartAfterKill()

	// 6. a clean SIGTERM restart
	r.waitStored("the process to store again once the store is back")
	r.term()
	r.start()
	r.p.d.waitReady(t)
	prod.waitProduced(500)
	dmEventually(t, "the process after SIGTERM audits", 30*time.Second, func() bool { return r.checked() > 0 })
	prod.stop()
	exWaitReport(ctx, t, r, want)
}

// exCommitted sums the group's committed offsets over the test topics.
func exCommitted(ctx context.Context, adm *kadm.Client, group string, topics []string) int64 {
	var n int64
	for _, topic := range topics {
		n += max(dmCommitted(ctx, adm, group, topic), 0)
	}
	return n
}

// exWaitReport waits until the weekly report holds as many checked records
// as were produced, then compares every number.
func exWaitReport(ctx context.Context, t *testing.T, r *exRun, want *exExpect) {
	t.Helper()
	week := exWeek(time.Now())
	var got string
	dmEventually(t, "the report to count every produced record", 90*time.Second, func() bool {
		rep, err := rpReport(ctx, r.p.d.url, week)
		if err != nil {
			return false
		}
		rules := map[string]int64{}
		for _, rt := range rep.Rules {
			rules[rt.Rule] += rt.Count
		}
		got = exFormat(rep.Summary.Checked, rep.Summary.Compliant, rules)
		return rep.Summary.Checked >= want.checked
	})
	if got != want.String() {
		t.Fatalf("weekly report:\n got  %s\n want %s", got, want.String())
	}
	if strings.Contains(got, "duplicate.event_id") {
		t.Fatalf("re-read records reported as producer duplicates: %s", got)
	}
	t.Logf("report exact: %s", got)
}

// exWaitChecked waits until the weekly report of the daemon at base counts
// at least n records and returns that report.
func exWaitChecked(ctx context.Context, t *testing.T, base string, n int64) *report.Weekly {
	t.Helper()
	week := exWeek(time.Now())
	var rep *report.Weekly
	dmEventually(t, fmt.Sprintf("the report to count %d records", n), 60*time.Second, func() bool {
		r, err := rpReport(ctx, base, week)
		if err != nil {
			return false
		}
		rep = r
		return rep.Summary.Checked >= n
	})
	return rep
}

func exWeek(now time.Time) string {
	y, w := now.UTC().ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// TestSamplingCoverageRealKafka: two replicas with static membership; one
// is killed with SIGKILL. While its session has not expired the group still
// lists it with its partitions, but their stored positions stop moving: the
// lag collector (on the surviving leader) shows them as unaudited in
// eventwatch_sampling_unaudited_partitions and on /readyz; restarted with the
// same identity the replica gets them back at once and auditing resumes
// within 10s.
func TestSamplingCoverageRealKafka(t *testing.T) {
	b, ctx, dir, bin := dmRealKafka(t, 5*time.Minute)
	topics := exTopicsOf("cov")
	for _, topic := range topics {
		dmCreateTopic(ctx, t, kadm.NewClient(b.Client(t)), topic)
	}
	want := newExExpect(t, topics, 0)
	prod := &exProducer{t: t, cl: b.Client(t), want: want}
	prod.start(ctx)
	defer prod.stop()
	runs := make([]*exRun, 2)
	for i := range runs {
		extra := fmt.Sprintf("sample:\n  group_id: cov\n  start_from: earliest\n  budget_per_partition: 1000000\n  metadata_refresh: 2s\n"+
			"  instance_id: cov-%d\n  session_timeout: 40s\n  topics_include: ['huleedu\\.e2ecov\\..*']\nstore:\n  flush_interval: 1s\n", i)
		runs[i] = &exRun{t: t, ctx: ctx, bin: bin, broker: b.Addr(), dir: filepath.Join(dir, fmt.Sprint(i)), extra: extra, topics: topics}
		runs[i].start()
		runs[i].p.d.waitReady(t)
	}
	unowned := func() (float64, *exRun) {
		for _, r := range runs {
			if r.p.alive && r.p.d.metric(t, "eventwatch_leader") == 1 && strings.Contains(r.p.d.scrape(t), "eventwatch_sampling_unaudited_partitions{") {
				return r.p.d.metric(t, "eventwatch_sampling_unaudited_partitions"), r
			}
		}
		return -1, nil
	}
	dmEventually(t, "every partition owned, measured by the leader", 90*time.Second, func() bool {
		n, _ := unowned()
		return n == 0 && runs[0].p.d.metric(t, "eventwatch_sampler_assigned_partitions") > 0 &&
			runs[1].p.d.metric(t, "eventwatch_sampler_assigned_partitions") > 0
	})
	_, leader := unowned()
	victim := runs[0]
	if leader == runs[0] {
		victim = runs[1]
	}
	lost := victim.p.d.metric(t, "eventwatch_sampler_assigned_partitions")
	victim.kill()
	dmEventually(t, "the dead replica's partitions shown as unaudited", 35*time.Second, func() bool {
		n, _ := unowned()
		return n == lost
	})
	total := leader.p.d.metric(t, "eventwatch_sampling_partitions")
	code, body := leader.p.d.get(t, "/readyz")
	if code != 200 || !strings.Contains(body, fmt.Sprintf("%.0f of %.0f partitions unaudited (0 assigned to no replica, %.0f with a stored position stuck)", lost, total, lost)) {
		t.Errorf("/readyz while a replica is gone: %d %q", code, body)
	}
	victim.restartAfterKill()
	dmEventually(t, "coverage complete again", 30*time.Second, func() bool {
		n, _ := unowned()
		return n == 0
	})
}
