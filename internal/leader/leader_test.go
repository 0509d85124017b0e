package leader

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

type replica struct {
	name    string
	el      *Elector
	reg     *prometheus.Registry
	cancel  context.CancelFunc
	done    chan struct{}
	running atomic.Int32
}

func startReplica(t *testing.T, name string, seeds []string, concurrent *atomic.Int32, maxConcurrent *atomic.Int32) *replica {
	t.Helper()
	var cfg Config
	cfg.SetDefaults()
	cfg.SessionTimeout = 6 * time.Second
	r := &replica{name: name, reg: prometheus.NewRegistry(), done: make(chan struct{})}
	log := slog.New(slog.DiscardHandler)
	r.el = New(cfg, []kgo.Opt{kgo.SeedBrokers(seeds...)}, r.reg, log)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		_ = r.el.Run(ctx, func(ctx context.Context) error {
			r.running.Add(1)
			n := concurrent.Add(1)
			for {
				m := maxConcurrent.Load()
				if n <= m || maxConcurrent.CompareAndSwap(m, n) {
					break
				}
			}
			<-ctx.Done()
			concurrent.Add(-1)
			r.running.Add(-1)
			return nil
		})
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *replica) stop() {
	r.cancel()
	<-r.done
}

// TestElectionHandOver: of two replicas exactly one leads; when the leader
// goes away the other takes over, and the work never runs twice at once.
// The election is the group's assignment alone: no replica ever fetches
// the coordination topic.
func TestElectionHandOver(t *testing.T) {
	c := kfaketest.Cluster(t)
	var fetches atomic.Int32
	c.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		fetches.Add(1)
		return nil, nil, false
	})
	t.Cleanup(func() {
		if n := fetches.Load(); n != 0 {
			t.Errorf("%d fetch requests; the coordination topic is never fetched", n)
		}
	})
	seeds := c.ListenAddrs()
	var concurrent, maxConcurrent atomic.Int32
	a := startReplica(t, "a", seeds, &concurrent, &maxConcurrent)
	b := startReplica(t, "b", seeds, &concurrent, &maxConcurrent)
	reps := []*replica{a, b}

	leaders := func() []*replica {
		var out []*replica
		for _, r := range reps {
			if r.el.Leading() {
				out = append(out, r)
			}
		}
		return out
	}
	wait.Within(t, 60*time.Second, "one leader", func() bool { return len(leaders()) == 1 && concurrent.Load() == 1 })
	leader := leaders()[0]
	follower := a
	if leader == a {
		follower = b
	}
	if got := testutil.ToFloat64(leader.el.gauge); got != 1 {
		t.Fatalf("leader gauge = %v, want 1", got)
	}
	if got := testutil.ToFloat64(follower.el.gauge); got != 0 {
		t.Fatalf("follower gauge = %v, want 0", got)
	}

	leader.stop()
	if leader.running.Load() != 0 {
		t.Fatal("work still running after the leader stopped")
	}
	wait.Within(t, 60*time.Second, "hand-over", func() bool { return follower.el.Leading() && follower.running.Load() == 1 })
	if m := maxConcurrent.Load(); m != 1 {
		t.Fatalf("work ran on %d replicas at once", m)
	}
	if got := testutil.ToFloat64(leader.el.transitions.WithLabelValues("released")); got != 1 {
		t.Fatalf("released transitions = %v, want 1", got)
	}
}

// TestDisabledRunsWork: without an election the work runs directly.
func TestDisabledRunsWork(t *testing.T) {
	cfg := Config{Enabled: false}
	el := New(cfg, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	started := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = el.Run(ctx, func(ctx context.Context) error {
			mu.Lock()
			started = true
			mu.Unlock()
			<-ctx.Done()
			return nil
		})
	}()
	wait.Within(t, 60*time.Second, "work", func() bool { mu.Lock(); defer mu.Unlock(); return started })
	cancel()
	<-done
	if el.Leading() {
		t.Fatal("still leading after Run returned")
	}
}

func TestValidate(t *testing.T) {
	var c Config
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c.ReplicationFactor = 0
	if err := c.Validate(); err == nil || err.Error() != "leader.replication_factor: must be -1 (broker default) or 1..32767, got 0" {
		t.Fatalf("err = %v", err)
	}
}

// severable dials normally until sever is called; then it closes every
// connection it made and refuses new ones: the replica is cut off from the
// cluster as by a network partition or a hung process.
type severable struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (s *severable) dial(ctx context.Context, network, host string) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut {
		return nil, errors.New("severed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		s.conns = append(s.conns, c)
	}
	return c, err
}

func (s *severable) sever() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = true
	for _, c := range s.conns {
		_ = c.Close()
	}
}

// TestLeaderCutOff: a leader that can no longer reach the cluster (no
// LeaveGroup, no heartbeats) is expired by the coordinator after the
// session timeout; the other replica takes over, and the cut-off one stops
// its work once it notices the membership is lost.
func TestLeaderCutOff(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.GroupMinSessionTimeout(time.Second))
	seeds := c.ListenAddrs()
	log := slog.New(slog.DiscardHandler)
	type rep struct {
		el   *Elector
		net  *severable
		work atomic.Int32
	}
	var reps [2]*rep
	for i := range reps {
		r := &rep{net: &severable{}}
		var cfg Config
		cfg.SetDefaults()
		cfg.SessionTimeout = 2 * time.Second
		r.el = New(cfg, []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.Dialer(r.net.dial)}, prometheus.NewRegistry(), log)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = r.el.Run(ctx, func(ctx context.Context) error {
				r.work.Add(1)
				defer r.work.Add(-1)
				<-ctx.Done()
				return nil
			})
		}()
		t.Cleanup(func() { cancel(); <-done })
		reps[i] = r
	}
	wait.Within(t, 60*time.Second, "one leader", func() bool { return reps[0].el.Leading() != reps[1].el.Leading() })
	leader, other := reps[0], reps[1]
	if reps[1].el.Leading() {
		leader, other = reps[1], reps[0]
	}
	leader.net.sever()
	wait.Within(t, 60*time.Second, "the other replica takes over", func() bool { return other.el.Leading() && other.work.Load() == 1 })
	wait.Within(t, 60*time.Second, "the cut-off replica stops its work", func() bool { return !leader.el.Leading() && leader.work.Load() == 0 })
}
