// Package leader elects, through Kafka itself, the one replica that runs
// eventwatch's singleton work (consumer lag, topic configuration and
// dead-letter collection): work that would be double counted if every
// replica did it.
//
// The model: every replica joins one consumer group (default
// "eventwatch-leader") subscribed to eventwatch's own coordination topic
// (default "__eventwatch_leader"), which has exactly one partition and
// never carries a record. Kafka's group coordinator assigns that partition
// to exactly one live member; that member is the leader. The work starts
// when partition 0 is assigned and is stopped — and waited for — when it is
// revoked or lost, before the rebalance completes, so two replicas never run
// the work at the same time as far as the group protocol can tell. When the
// leader shuts down it leaves the group and another member takes over at
// once; when it dies, the coordinator expires it after the session timeout
// and hands the partition to another member.
//
// Partial failure: while Kafka is unreachable no replica can be elected, and
// a leader that stops heartbeating loses the partition (OnPartitionsLost)
// and stops its work. A leader cut off from the coordinator for less than
// the session timeout keeps working until it notices, which is the one
// window in which two replicas may briefly overlap.
//
// Metrics: eventwatch_leader (1 on the leader) and
// eventwatch_leader_transitions_total{direction}.
package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Config is the `leader:` section.
type Config struct {
	Enabled           bool          `yaml:"enabled"`            // elect a leader; false runs the singleton work on every replica (single-replica deployments)
	Topic             string        `yaml:"topic"`              // coordination topic, one partition, created when missing
	Group             string        `yaml:"group"`              // consumer group of the election
	SessionTimeout    time.Duration `yaml:"session_timeout"`    // how long a dead leader keeps the role before another replica takes over
	ReplicationFactor int           `yaml:"replication_factor"` // of the coordination topic; -1 uses the broker default
}

// SetDefaults fills the defaults.
func (c *Config) SetDefaults() {
	c.Enabled = true
	c.Topic = "__eventwatch_leader"
	c.Group = "eventwatch-leader"
	c.SessionTimeout = 10 * time.Second
	c.ReplicationFactor = -1
}

// Validate reports the first problem, prefixed with the key's YAML path
// (e.g. "leader.session_timeout: ...").
func (c *Config) Validate() error {
	switch {
	case !c.Enabled:
		return nil
	case c.Topic == "":
		return errors.New("leader.topic: required when enabled")
	case c.Group == "":
		return errors.New("leader.group: required when enabled")
	case c.SessionTimeout < time.Second:
		return fmt.Errorf("leader.session_timeout: must be at least 1s, got %s", c.SessionTimeout)
	case c.ReplicationFactor == 0 || c.ReplicationFactor < -1 || c.ReplicationFactor > 32767:
		return fmt.Errorf("leader.replication_factor: must be -1 (broker default) or 1..32767, got %d", c.ReplicationFactor)
	}
	return nil
}

// Work is the singleton work. It must return soon after ctx is cancelled;
// a non-nil error other than ctx's is logged and the work restarted after a
// backoff while this replica still leads.
type Work func(ctx context.Context) error

// Elector takes part in the election and runs the work while it leads.
type Elector struct {
	cfg  Config
	base []kgo.Opt
	log  *slog.Logger

	gauge       prometheus.Gauge
	transitions *prometheus.CounterVec
	leading     atomic.Bool

	mu     sync.Mutex
	runCtx context.Context
	work   Work
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns an elector for cfg using base client options (seeds, SASL,
// TLS), registering its metrics on reg.
func New(cfg Config, base []kgo.Opt, reg prometheus.Registerer, log *slog.Logger) *Elector {
	e := &Elector{
		cfg:         cfg,
		base:        base,
		log:         log.With("component", "leader"),
		gauge:       metrics.Leader.NewGaugeVec(reg).WithLabelValues(),
		transitions: metrics.LeaderTransitions.NewCounterVec(reg),
	}
	for _, d := range []string{"acquired", "released"} {
		e.transitions.WithLabelValues(d)
	}
	return e
}

// Leading reports whether this replica runs the singleton work now.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Run takes part in the election until ctx is done, running work whenever
// this replica leads. With the election disabled it runs work directly.
// Run returns nil when ctx is cancelled.
func (e *Elector) Run(ctx context.Context, work Work) error {
	e.mu.Lock()
	e.runCtx, e.work = ctx, work
	e.mu.Unlock()
	if !e.cfg.Enabled {
		e.start()
		<-ctx.Done()
		e.stop()
		return nil
	}
	if err := e.ensureTopic(ctx); err != nil {
		return nil //nolint:nilerr // only ctx cancellation ends ensureTopic
	}
	cl, err := kgo.NewClient(e.clientOpts()...)
	if err != nil {
		return fmt.Errorf("create election client: %w", err)
	}
	// the group's assignment is the election; the topic's records are
	// never read (it has none): no fetch waits on it every few seconds
	cl.PauseFetchTopics(e.cfg.Topic)
	e.poll(ctx, cl)
	e.stop()
	cl.Close()
	return nil
}

func (e *Elector) clientOpts() []kgo.Opt {
	return append(append([]kgo.Opt{}, e.base...),
		kgo.ConsumerGroup(e.cfg.Group),
		kgo.ConsumeTopics(e.cfg.Topic),
		kgo.SessionTimeout(e.cfg.SessionTimeout),
		kgo.HeartbeatInterval(e.cfg.SessionTimeout/3), // Kafka's rule: at most a third of the session
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, p map[string][]int32) { e.onAssigned(p) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, p map[string][]int32) { e.onRevoked(p) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, p map[string][]int32) { e.onRevoked(p) }),
	)
}

// poll keeps the membership alive; the coordination topic carries no
// records and is not fetched, so a poll returns only on errors or
// cancellation.
func (e *Elector) poll(ctx context.Context, cl *kgo.Client) {
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				e.log.Warn("election consumer error", "topic", t, "partition", p, "err", err)
			}
		})
	}
}

// ensureTopic creates the coordination topic, retrying with backoff while
// the cluster is unreachable. It returns an error only when ctx is done.
func (e *Elector) ensureTopic(ctx context.Context) error {
	bo := newBackoff(time.Second, 30*time.Second)
	for {
		err := e.createTopic(ctx)
		if err == nil {
			return nil
		}
		e.log.Warn("create coordination topic", "topic", e.cfg.Topic, "err", err)
		if werr := bo.wait(ctx); werr != nil {
			return werr
		}
	}
}

func (e *Elector) createTopic(ctx context.Context) error {
	cl, err := kgo.NewClient(e.base...)
	if err != nil {
		return fmt.Errorf("create admin client: %w", err)
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(cctx, 1, int16(e.cfg.ReplicationFactor), map[string]*string{"cleanup.policy": ptr("compact")}, e.cfg.Topic)
	if err == nil || errors.Is(err, kerr.TopicAlreadyExists) || errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return nil
	}
	return fmt.Errorf("create topic %s: %w", e.cfg.Topic, err)
}

func ptr[T any](v T) *T { return &v }

func (e *Elector) onAssigned(p map[string][]int32) {
	if has(p, e.cfg.Topic) {
		e.start()
	}
}

func (e *Elector) onRevoked(p map[string][]int32) {
	if has(p, e.cfg.Topic) {
		e.stop()
	}
}

func has(p map[string][]int32, topic string) bool {
	for _, part := range p[topic] {
		if part == 0 {
			return true
		}
	}
	return false
}

// start runs the work in the background unless it already runs.
func (e *Elector) start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cancel != nil || e.runCtx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	e.cancel, e.done = cancel, make(chan struct{})
	e.leading.Store(true)
	e.gauge.Set(1)
	e.transitions.WithLabelValues("acquired").Inc()
	e.log.Info("leading the singleton work")
	go e.loop(ctx, e.work, e.done)
}

// stop cancels the work and waits for it to return.
func (e *Elector) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
	e.cancel, e.done = nil, nil
	e.leading.Store(false)
	e.gauge.Set(0)
	e.transitions.WithLabelValues("released").Inc()
	e.log.Info("released the singleton work")
}

func (e *Elector) loop(ctx context.Context, work Work, done chan struct{}) {
	defer close(done)
	bo := newBackoff(time.Second, time.Minute)
	for {
		err := work(ctx)
		if ctx.Err() != nil {
			return
		}
		e.log.Error("singleton work failed, restarting", "err", err)
		if bo.wait(ctx) != nil {
			return
		}
	}
}
