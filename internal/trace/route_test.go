package trace

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// replica is a routed stitcher running on a kfake cluster.
type replica struct {
	s      *Stitcher
	cancel context.CancelFunc
	done   chan error
}

func routedConfig(topic string) Config {
	return Config{Window: 1500 * time.Millisecond, Routing: RoutingConfig{Topic: topic, Group: topic + "-group", Partitions: 8}}
}

func startReplica(t *testing.T, c *kfake.Cluster, cfg Config) *replica {
	t.Helper()
	var buf syncBuffer
	s, err := New(cfg, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	s.EnableRouting([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)})
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{s: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(r.stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replica log:\n%s", buf.String())
		}
	})
	return r
}

// syncBuffer is a goroutine-safe log buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (r *replica) stop() {
	r.cancel()
	if err := <-r.done; err != nil {
		panic(err) //nolint:forbidigo // Run returns nil on cancellation; anything else is a bug
	}
	r.done <- nil // later stops return at once
}

// traffic is n chains of the three-hop flow, each with its own trace; every
// third replaces its correlation id midway (linked by trace id only) and
// every fifth has a last event without correlation id (trace only).
func traffic(n int) []ev {
	var out []ev
	for i := range n {
		corr := fmt.Sprintf("corr-%03d", i)
		trace := fmt.Sprintf("%032x", i+1)
		for j, e := range threeHop(corr) {
			e.id = fmt.Sprintf("%s-%d", e.id, i)
			e.traceparent = strings.Replace(e.traceparent, traceA, trace, 1)
			e.at += time.Duration(i) * time.Millisecond
			if i%3 == 0 && j == 2 {
				e.correlation = corr + "-replaced"
			}
			if i%5 == 0 && j == 2 {
				e.correlation = ""
			}
			out = append(out, e)
		}
	}
	return out
}

// stableReport strips what differs between runs (wall-clock times).
func stableReport(r Report) string {
	r.GeneratedAt, r.Replicas, r.OpenChains, r.RecentChains = time.Time{}, nil, 0, nil // recent: which chains closed last differs
	for i := range r.BrokenChains {
		r.BrokenChains[i].ClosedAt = time.Time{}
	}
	slicesSortBroken(r.BrokenChains)
	b, _ := json.MarshalIndent(r, "", " ")
	return string(b)
}

func slicesSortBroken(b []BrokenChain) {
	for i := range b {
		for j := i + 1; j < len(b); j++ {
			if b[j].CorrelationID < b[i].CorrelationID {
				b[i], b[j] = b[j], b[i]
			}
		}
	}
}

// localReport is what one local stitcher makes of the traffic.
func localReport(t *testing.T, evs []ev) string {
	t.Helper()
	f := newFixture(t, Config{Window: time.Minute})
	for _, e := range evs {
		f.feed(e.record())
	}
	f.closeAll()
	return stableReport(f.s.Flows())
}

// merged is the report of every replica's document added up.
func merged(rs ...*replica) Report {
	var docs []FlowsDoc
	for _, r := range rs {
		docs = append(docs, r.s.FlowsDoc())
	}
	return MergeFlows(DefaultBrokenChains, docs...).Report(t0)
}

func waitClosed(t *testing.T, want uint64, rs ...*replica) {
	t.Helper()
	var r Report
	wait.Describe(t, 60*time.Second, func() string {
		return fmt.Sprintf("%d chains closed, %d open; want %d closed", r.ClosedChains, r.OpenChains, want)
	}, func() bool {
		r = merged(rs...)
		return r.ClosedChains == want && r.OpenChains == 0
	})
}

// waitOwned waits until the group has settled: the live replicas rs
// together stitch every routing partition, each some (so none is still
// joining and no partition is mid-hand-over).
func waitOwned(t *testing.T, parts int, rs ...*replica) {
	t.Helper()
	var owned []float64
	wait.Describe(t, 60*time.Second, func() string {
		return fmt.Sprintf("every one of %d routing partitions owned, each replica some; owned %v", parts, owned)
	}, func() bool {
		owned = owned[:0]
		sum := 0.0
		for _, r := range rs {
			n := testutil.ToFloat64(r.s.m.routed)
			owned = append(owned, n)
			if n == 0 {
				return false
			}
			sum += n
		}
		return sum == float64(parts)
	})
}

// waitStitched waits until the n events observed through rs were all sent
// to the routing topic and acknowledged (none left in a producer buffer)
// and their owners hold open chains open.
func waitStitched(t *testing.T, n uint64, open int, rs ...*replica) {
	t.Helper()
	var sent uint64
	var buffered int64
	var r Report
	wait.Describe(t, 60*time.Second, func() string {
		return fmt.Sprintf("%d events routed (%d still buffered), %d chains open; want %d routed, %d open", sent, buffered, r.OpenChains, n, open)
	}, func() bool {
		sent, buffered = 0, 0
		for _, rep := range rs {
			for _, p := range rep.s.FlowsDoc().Propagation {
				sent += p.Events
			}
			buffered += rep.s.route.cl.BufferedProduceRecords()
		}
		r = merged(rs...)
		return sent == n && buffered == 0 && r.OpenChains == open
	})
}

// TestRoutingStitchesEachChainOnce: three replicas, each observing a random
// share of every chain's events, stitch every chain exactly once and add up
// to what one stitcher that saw everything reports — including chains
// joined only by trace id (a replaced or dropped correlation id), whose
// events are routed to different partitions first and linked.
func TestRoutingStitchesEachChainOnce(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cfg := routedConfig("hops-once")
	rs := []*replica{startReplica(t, c, cfg), startReplica(t, c, cfg), startReplica(t, c, cfg)}
	evs := traffic(30)
	want := localReport(t, evs)
	rng := rand.New(rand.NewPCG(1, 2))
	waitOwned(t, cfg.Routing.Partitions, rs...) // the group has settled: no partition is mid-hand-over
	for _, e := range evs {
		rec, res := e.record()
		rs[rng.IntN(len(rs))].s.Observe(rec, res)
	}
	waitClosed(t, 30, rs...)
	if got := stableReport(merged(rs...)); got != want {
		t.Errorf("merged report of 3 replicas differs from one stitcher's:\n%s\nwant\n%s", got, want)
	}
	for i, r := range rs {
		if n := r.s.FlowsDoc().Closed; n == 0 || n == 30 {
			t.Logf("replica %d closed %d chains (the split depends on the partition assignment)", i, n)
		}
	}
}

// TestRoutingHandOver: chains open when a replica leaves, and when another
// joins, are finished by the partitions' new owners from the routing topic:
// no chain is lost, split or counted twice.
func TestRoutingHandOver(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cfg := routedConfig("hops-handover")
	cfg.Window = 4 * time.Second
	a, b := startReplica(t, c, cfg), startReplica(t, c, cfg)
	evs := traffic(24)
	want := localReport(t, evs)
	waitOwned(t, cfg.Routing.Partitions, a, b)
	feed := func(r *replica, evs []ev) {
		for _, e := range evs {
			rec, res := e.record()
			r.s.Observe(rec, res)
		}
	}
	// The first two events of every chain, half through each replica.
	var first, last []ev
	for i, e := range evs {
		if i%3 == 2 {
			last = append(last, e)
		} else {
			first = append(first, e)
		}
	}
	feed(a, first[:len(first)/2])
	feed(b, first[len(first)/2:])
	waitStitched(t, uint64(len(first)), 24, a, b) // routed and stitched, still open
	b.stop()                                      // b leaves: a takes over b's partitions and replays them
	cNew := startReplica(t, c, cfg)
	waitOwned(t, cfg.Routing.Partitions, a, cNew) // cNew joins: some partitions move from a to cNew
	feed(a, last[:len(last)/2])
	feed(cNew, last[len(last)/2:])
	waitClosed(t, 24, a, b, cNew)
	if got := stableReport(merged(a, b, cNew)); got != want {
		t.Errorf("after hand-overs the merged report differs from one stitcher's:\n%s\nwant\n%s", got, want)
	}
}

// TestRoutingKilledOwner: an owner that vanishes without flushing or
// committing (its client closed under it, as when the process is killed)
// has its partitions replayed by the survivor from the last committed
// position, side effects included; the chains it held open are finished
// there and none is counted twice.
func TestRoutingKilledOwner(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cfg := routedConfig("hops-killed")
	cfg.Window = 4 * time.Second
	cfg.Routing.SessionTimeout = 6 * time.Second
	a, b := startReplica(t, c, cfg), startReplica(t, c, cfg)
	evs := traffic(24)
	want := localReport(t, evs)
	waitOwned(t, cfg.Routing.Partitions, a, b)
	var first, last []ev
	for i, e := range evs {
		if i%3 == 2 {
			last = append(last, e)
		} else {
			first = append(first, e)
		}
	}
	for i, e := range first {
		rec, res := e.record()
		[]*replica{a, b}[i%2].s.Observe(rec, res)
	}
	waitStitched(t, uint64(len(first)), 24, a, b) // routed and stitched, still open
	b.s.route.close()                             // killed: no flush, no commit, no hand-shake,
	b.stop()                                      // and no more stitching (its open chains are dropped)
	for _, e := range last {
		rec, res := e.record()
		a.s.Observe(rec, res)
	}
	waitClosed(t, 24, a, b)
	if got := stableReport(merged(a, b)); got != want {
		t.Errorf("after the owner was killed the merged report differs from one stitcher's:\n%s\nwant\n%s", got, want)
	}
}

// TestRoutingCommitsAnIdlePositionOnce: the sweep commits each routing
// partition's position when it moved, not every second: once everything
// was stitched, marked and the positions are committed, an idle replica
// sends no more OffsetCommit requests.
func TestRoutingCommitsAnIdlePositionOnce(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cfg := routedConfig("hops-idle")
	var mu sync.Mutex
	commits := 0
	c.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if r, ok := req.(*kmsg.OffsetCommitRequest); ok && r.Group == cfg.Routing.Group {
			mu.Lock()
			commits++
			mu.Unlock()
		}
		return nil, nil, false
	})
	count := func() int { mu.Lock(); defer mu.Unlock(); return commits }
	r := startReplica(t, c, cfg)
	waitOwned(t, cfg.Routing.Partitions, r)
	evs := traffic(6)
	for _, e := range evs {
		rec, res := e.record()
		r.s.Observe(rec, res)
	}
	waitClosed(t, 6, r)
	settled := routingSettled(t, c, cfg)
	wait.Within(t, 30*time.Second, "every routing position committed", settled)
	// the positions can be committed while the closed chains' markers
	// still wait for the flows to be published: once sent, they move the
	// positions again. Asleep, the stitcher has nothing left to send.
	waitAsleep(t, r.s, sweepInterval(cfg.Window))
	if !settled() {
		t.Fatal("asleep with a routing position not committed")
	}
	before := count()
	<-time.After(20 * sweepInterval(cfg.Window)) // twenty sweeps
	if n := count() - before; n != 0 || !settled() {
		t.Fatalf("%d OffsetCommit requests in twenty idle sweeps; want none (positions unchanged)", n)
	}
	if before == 0 {
		t.Fatal("no position was ever committed")
	}
}

// routingSettled reports whether every record of cfg's routing topic
// (markers included) is handled and its position committed.
func routingSettled(t *testing.T, c *kfake.Cluster, cfg Config) func() bool {
	adm := kadm.NewClient(kfaketest.Client(t, c))
	return func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ends, err := adm.ListEndOffsets(ctx, cfg.Routing.Topic)
		if err != nil {
			return false
		}
		committed, err := adm.FetchOffsets(ctx, cfg.Routing.Group)
		if err != nil {
			return false
		}
		ok := true
		ends.Each(func(o kadm.ListedOffset) {
			if o.Offset > 0 {
				cm, found := committed.Lookup(cfg.Routing.Topic, o.Partition)
				ok = ok && found && cm.At == o.Offset
			}
		})
		return ok
	}
}

// TestIdleStitcherDoesNotSweep: once every chain is closed, marked and its
// position committed, the routed stitcher stops its one-second sweeps (the
// old code swept every second on an estate without traffic); the next
// events start them again, so their chains still close by the clock.
func TestIdleStitcherDoesNotSweep(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cfg := routedConfig("hops-sleep")
	r := startReplica(t, c, cfg)
	waitOwned(t, cfg.Routing.Partitions, r)
	evs := traffic(12)
	for _, e := range evs[:18] { // six chains
		rec, res := e.record()
		r.s.Observe(rec, res)
	}
	waitClosed(t, 6, r)
	wait.Within(t, 30*time.Second, "every routing position committed", routingSettled(t, c, cfg))
	waitAsleep(t, r.s, sweepInterval(cfg.Window))
	for _, e := range evs[18:] { // six more: the sweeps must close them
		rec, res := e.record()
		r.s.Observe(rec, res)
	}
	waitClosed(t, 12, r)
	waitAsleep(t, r.s, sweepInterval(cfg.Window))
}

// TestIdleLocalStitcherDoesNotSweep is TestIdleStitcherDoesNotSweep
// without routing.
func TestIdleLocalStitcherDoesNotSweep(t *testing.T) {
	t.Parallel()
	cfg := Config{Window: 300 * time.Millisecond}
	s, err := New(cfg, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	evs := traffic(12)
	closed := func(want uint64) func() bool {
		return func() bool { r := s.Flows(); return r.ClosedChains == want && r.OpenChains == 0 }
	}
	for _, e := range evs[:18] {
		s.Observe(e.record())
	}
	wait.Within(t, 30*time.Second, "six chains closed", closed(6))
	waitAsleep(t, s, sweepInterval(cfg.Window))
	for _, e := range evs[18:] {
		s.Observe(e.record())
	}
	wait.Within(t, 30*time.Second, "twelve chains closed", closed(12))
	waitAsleep(t, s, sweepInterval(cfg.Window))
}

// waitAsleep waits until s runs no sweep for twenty sweep intervals.
func waitAsleep(t *testing.T, s *Stitcher, every time.Duration) {
	t.Helper()
	wait.Within(t, 30*time.Second, "no sweep for twenty sweep intervals", func() bool {
		n := s.sweeps.Load()
		<-time.After(20 * every)
		return s.sweeps.Load() == n
	})
}

// TestRoutingCommitInFlightIsNotRepeated: a position whose commit the
// broker has not answered yet is not sent again by the next sweeps (the
// old code remembered a position only once its commit was answered, so a
// sweep in between committed it twice: TestRoutingCommitsAnIdlePositionOnce
// failed now and then); a commit that failed is sent again.
func TestRoutingCommitInFlightIsNotRepeated(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cfg := routedConfig("hops-inflight")
	const marked = 4242 // an offset no sweep commits: this test's own commits
	var mu sync.Mutex
	sent, slow, refuse := 0, false, false
	c.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r, _ := req.(*kmsg.OffsetCommitRequest)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				if p.Offset != marked {
					continue
				}
				mu.Lock()
				sent++
				delay, fail := slow, refuse
				mu.Unlock()
				if delay {
					<-time.After(1500 * time.Millisecond) // the answer comes after several sweeps
				}
				if fail {
					resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
					for _, tp := range r.Topics {
						rt := kmsg.NewOffsetCommitResponseTopic()
						rt.Topic = tp.Topic
						for _, p := range tp.Partitions {
							rp := kmsg.NewOffsetCommitResponseTopicPartition()
							rp.Partition, rp.ErrorCode = p.Partition, kerr.UnknownServerError.Code
							rt.Partitions = append(rt.Partitions, rp)
						}
						resp.Topics = append(resp.Topics, rt)
					}
					return resp, nil, true
				}
			}
		}
		return nil, nil, false
	})
	count := func() int { mu.Lock(); defer mu.Unlock(); return sent }
	set := func(d, f bool) { mu.Lock(); slow, refuse = d, f; mu.Unlock() }
	r := startReplica(t, c, cfg)
	waitOwned(t, cfg.Routing.Partitions, r)
	rt := r.s.route
	committedAt := func(p int32) int64 { // what the router knows is committed
		rt.commitMu.Lock()
		defer rt.commitMu.Unlock()
		return rt.committed[p]
	}

	set(true, false)
	for range 3 { // three sweeps while the first commit is unanswered
		rt.commit(map[int32]int64{0: marked})
		<-time.After(200 * time.Millisecond)
	}
	wait.Within(t, 10*time.Second, "the slow commit answered", func() bool { return committedAt(0) == marked })
	if n := count(); n != 1 {
		t.Fatalf("%d commits of one position sent while its first was unanswered; want 1", n)
	}
	rt.commit(map[int32]int64{0: marked}) // answered and unchanged: not sent again
	<-time.After(300 * time.Millisecond)
	if n := count(); n != 1 {
		t.Fatalf("%d commits of a committed position; want 1", n)
	}

	// a refused commit is sent again by the next sweep
	set(false, true)
	rt.commit(map[int32]int64{1: marked})
	wait.Within(t, 10*time.Second, "the refused commit answered", func() bool {
		rt.commitMu.Lock()
		defer rt.commitMu.Unlock()
		_, inFlight := rt.sending[1]
		return count() == 2 && !inFlight
	})
	set(false, false)
	rt.commit(map[int32]int64{1: marked})
	wait.Within(t, 10*time.Second, "the refused position committed by the next sweep", func() bool { return committedAt(1) == marked })
	if n := count(); n != 3 {
		t.Fatalf("%d commits; want 3 (one slow, one refused, its retry)", n)
	}
}

// TestRoutingBeforeTheGroupForms: observations sent before any replica
// owns their partitions (a fresh deployment starting up) are stitched
// with their links once the partitions are assigned.
func TestRoutingBeforeTheGroupForms(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cfg := routedConfig("hops-early")
	evs := traffic(15)
	want := localReport(t, evs)
	a := startReplica(t, c, cfg)
	for _, e := range evs { // at once: the group has not formed yet
		rec, res := e.record()
		a.s.Observe(rec, res)
	}
	waitClosed(t, 15, a)
	if got := stableReport(merged(a)); got != want {
		t.Errorf("observations sent before the group formed:\n%s\nwant\n%s", got, want)
	}
}

// TestRoutingJoinsSpans: with routing, spans go to the partition of their
// trace key and follow the chain that holds the trace (here it lives under
// its correlation id, most likely in another partition); two replicas
// share the events, a third replica's reader hands in the spans, and the
// merged report shows every upstream exact.
func TestRoutingJoinsSpans(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cfg := routedConfig("hops-spans")
	a, b := startReplica(t, c, cfg), startReplica(t, c, cfg)
	evs := fanOut([2]int32{0, 1}, [2]int32{0, 1})
	for i, e := range evs {
		rec, res := e.record()
		[]*replica{a, b}[i%2].s.Observe(rec, res)
	}
	if err := b.s.ObserveSpans(fanOutSpans(t, evs)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, 1, a, b)
	r := merged(a, b)
	up, how := upstreamsOf(t, r)
	for id, want := range fanOutTruth {
		if up[id] != want || how[id] != CauseExact {
			t.Errorf("%s: upstream %q (%s), want %q exact", id, up[id], how[id], want)
		}
	}
}

// TestFetchWait: the routing topic's fetch wait is a twentieth of the
// window, never below the quarter second short test windows had and never
// above 15 s, so an idle replica asks every 15 s at the default window
// instead of four times a second, while a new owner's replay still starts
// at most a twentieth of the window late.
func TestFetchWait(t *testing.T) {
	for _, c := range []struct{ window, want time.Duration }{
		{1500 * time.Millisecond, 250 * time.Millisecond},
		{4 * time.Second, 250 * time.Millisecond},
		{10 * time.Second, 500 * time.Millisecond},
		{time.Minute, 3 * time.Second},
		{2 * time.Minute, 6 * time.Second},
		{DefaultWindow, 15 * time.Second},
		{time.Hour, 15 * time.Second},
	} {
		if got := fetchWait(c.window); got != c.want {
			t.Errorf("fetchWait(%s) = %s, want %s", c.window, got, c.want)
		}
	}
}
