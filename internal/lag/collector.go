package lag

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Collector polls the cluster through the admin API every Config.Interval
// and publishes each result as an immutable Snapshot, with its metrics
// encoded once (served by MetricsHandler). It serves the groups API
// (Routes), and hands snapshots to reports (Snapshot).
type Collector struct {
	cfg Config
	cl  *kgo.Client  // the client New was given: sharded requests kadm does not make lean enough
	adm *kadm.Client // cl's admin client
	exp Expectations
	// records reads the records at committed offsets for exact time lag;
	// nil: time lag is estimated (WithRecordClient).
	records *kgo.Client
	seen    *SeenTimes       // timestamps the sampler read (WithSampledTimes); nil: none
	own     map[string]bool  // eventwatch's own groups, hidden unless lag.show_own_groups
	now     func() time.Time // the clock cycles start by (tests replace it)
	log     *slog.Logger

	snap atomic.Pointer[Snapshot]
	// listed is the last cycle's topic listing (Listed): every topic the
	// metadata named without error, internal ones left out
	listed atomic.Pointer[Listing]
	expo   atomic.Pointer[exposition] // the snapshot's metrics, encoded when it is published
	mu     sync.Mutex                 // serializes cycles: the state is not shared
	pubMu  sync.Mutex
	pubCh  chan struct{} // closed when the next snapshot is published (Published); nil: nobody waits
	state  *state

	coord coordinators // the groups' coordinators, for OffsetFetch

	positions map[string]*positionRow // the sampler group's stored positions by topic, for stall detection; guarded by mu

	adminErrors *prometheus.CounterVec
	stamps      *prometheus.CounterVec // eventwatch_time_lag_records_total{source}
	success     *prometheus.GaugeVec
	duration    *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	lastOK      time.Time
}

// Option configures a Collector beyond its Config.
type Option func(*Collector)

// WithRecordClient lets the collector read the record at a group's
// committed offset (one bounded Fetch per leader broker per cycle, cached
// per offset) so that time lag is exact: now minus that record's
// timestamp. Pass the client given to New. Without it every time
// lag is estimated from the sampled end offsets.
func WithRecordClient(cl *kgo.Client) Option { return func(c *Collector) { c.records = cl } }

// WithClock makes cycles start at the times now returns instead of the
// wall clock: for simulations and tests that drive minutes of cycles in
// seconds (records must then carry timestamps on the same clock).
func WithClock(now func() time.Time) Option { return func(c *Collector) { c.now = now } }

// New validates cfg (after applying defaults to unset fields), and returns
// a collector that registers its metrics on reg. It makes no Kafka request
// until Run or CollectOnce.
func New(cfg Config, cl *kgo.Client, exp Expectations, reg prometheus.Registerer, log *slog.Logger, opts ...Option) (*Collector, error) {
	if cl == nil {
		return nil, errors.New("new lag collector: nil client")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new lag collector: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{
		cfg: cfg, cl: cl, adm: kadm.NewClient(cl), exp: exp,
		log:       log.With("component", "lag"),
		state:     newState(cfg.StatusWindow, cfg.OffsetsTableSize),
		positions: map[string]*positionRow{},
		own:       map[string]bool{},
		now:       time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	if !cfg.ShowOwnGroups {
		for _, g := range exp.OwnGroups {
			c.own[g] = true
		}
	}
	if err := c.register(reg); err != nil {
		return nil, fmt.Errorf("new lag collector: %w", err)
	}
	return c, nil
}

// adminRequests are the request kinds of eventwatch_admin_errors_total the
// collector can fail, in collection order.
var adminRequests = []string{"metadata", "list_start_offsets", "list_end_offsets", "list_groups", "describe_configs",
	"describe_groups", "describe_consumer_groups", "offset_fetch", "list_max_timestamp_offsets", "fetch_records", "describe_log_dirs"}

// register creates the collector's self metrics (shared with other
// collectors through their collector and request labels) and registers the
// snapshot collector.
func (c *Collector) register(reg prometheus.Registerer) error {
	var err error
	if c.adminErrors, err = sharedVec(reg, metrics.AdminErrors, newCounterVec); err != nil {
		return err
	}
	for _, req := range adminRequests {
		c.adminErrors.WithLabelValues(req) // exported at 0 from start, so rate() and its panel have data
	}
	if c.stamps, err = sharedVec(reg, metrics.LagRecordStamps, newCounterVec); err != nil {
		return err
	}
	for _, src := range []string{stampSampled, stampFetched} {
		c.stamps.WithLabelValues(src)
	}
	for _, g := range []struct {
		dst  **prometheus.GaugeVec
		spec metrics.Spec
	}{{&c.success, metrics.CollectorSuccess}, {&c.duration, metrics.CollectorDuration}, {&c.lastSuccess, metrics.CollectorLastSuccess}} {
		if *g.dst, err = sharedVec(reg, g.spec, newGaugeVec); err != nil {
			return err
		}
	}
	if err := reg.Register(snapshotNames{}); err != nil {
		return fmt.Errorf("register lag metrics: %w", err)
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metrics.LagSnapshotAge.Name, Help: metrics.LagSnapshotAge.Help}, c.snapshotAge)
	if err := reg.Register(age); err != nil {
		return fmt.Errorf("register lag metrics: %w", err)
	}
	return nil
}

// snapshotAge is the age of the last snapshot in seconds, +Inf before the
// first one: until then /metrics has no lag series, which must not read as
// "no lag".
func (c *Collector) snapshotAge() float64 {
	s := c.Snapshot()
	if s == nil {
		return math.Inf(1)
	}
	return time.Since(s.Time).Seconds()
}

// Run collects once immediately and then every Config.Interval until ctx
// ends. A failing cycle is logged and counted; it never stops Run. Run
// returns nil when ctx is cancelled.
func (c *Collector) Run(ctx context.Context) error {
	tick := time.NewTicker(c.cfg.Interval)
	defer tick.Stop()
	for {
		if err := c.CollectOnce(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("lag collection incomplete", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Snapshot returns the latest published snapshot, or nil before the first
// cycle completes.
func (c *Collector) Snapshot() *Snapshot { return c.snap.Load() }

// CollectOnce runs one collection cycle and publishes its snapshot. It
// returns an error describing the failed requests when any failed; the
// snapshot is published either way, keeping everything that succeeded.
func (c *Collector) CollectOnce(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cy := &cycle{ctx: ctx, at: c.now(), groups: map[string]*groupInfo{},
		commits: map[string]groupCommits{}, fetched: map[string]bool{}, failed: map[string]error{}}
	c.state.begin(cy.at)
	c.coord.sweep()
	c.fetchAll(ctx, cy)
	tFetched := time.Since(cy.at)
	c.recordTopics(ctx, cy)
	cy.coverage = c.collectCoverage(ctx, cy)
	c.foldAll(cy)
	c.lookupTimes(ctx, cy)
	tFolded := time.Since(cy.at)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("collect lag: %w", err) // cut short: keep the last complete snapshot
	}
	snap := c.publish(cy)
	c.state.sweep()
	c.log.Debug("lag cycle", "cycle", snap.Cycle, "groups", len(snap.Groups), "errors", len(snap.Errors),
		"fetched", tFetched, "folded", tFolded, "total", time.Since(cy.at))
	if !snap.Success {
		return fmt.Errorf("collect lag: %d admin requests failed: %s", len(snap.Errors), snap.Errors[0])
	}
	return nil
}

// publish builds the snapshot of cycle cy, stores it and updates the
// collector's self metrics.
func (c *Collector) publish(cy *cycle) *Snapshot {
	groups := c.buildGroups(cy)
	dlqs := c.buildDLQs()
	snap := &Snapshot{
		Time: cy.at, Cycle: c.state.cycle, Errors: cy.errs, Success: len(cy.errs) == 0,
		Brokers: len(cy.meta.Brokers), Objective: c.cfg.LagObjective, Window: c.cfg.StatusWindow,
		Groups: groups, DLQs: dlqs, Violations: c.evalRules(cy, dlqs, groups), Topics: c.buildTopics(),
		Coverage: cy.coverage,
		byGroup:  make(map[string]int, len(groups)),
	}
	for i, g := range groups {
		snap.byGroup[g.Group] = i
	}
	if !cy.metaOK {
		if prev := c.snap.Load(); prev != nil {
			snap.Brokers = prev.Brokers
		}
	}
	snap.Duration = time.Since(cy.at)
	if snap.Success {
		c.lastOK = cy.at
		c.lastSuccess.WithLabelValues("lag").Set(float64(cy.at.UnixNano()) / 1e9)
	}
	snap.LastSuccess = c.lastOK
	c.success.WithLabelValues("lag").Set(boolFloat(snap.Success))
	c.duration.WithLabelValues("lag").Set(snap.Duration.Seconds())
	c.snap.Store(snap)
	if checkSnapshot != nil {
		checkSnapshot(c, snap)
	}
	if expo, err := newExposition(snap, c.cfg.Granularity == GranularityPartition, c.expo.Load()); err != nil {
		c.log.Error("lag metrics not updated", "err", err)
	} else {
		c.expo.Store(expo)
	}
	c.pubMu.Lock()
	if c.pubCh != nil {
		close(c.pubCh)
		c.pubCh = nil
	}
	c.pubMu.Unlock()
	return snap
}

// Published returns a channel closed when the next snapshot is published
// (its metrics encoded too): what runs after each cycle waits on it
// instead of polling Snapshot. Take it before reading Snapshot, so that a
// snapshot published in between is not missed.
func (c *Collector) Published() <-chan struct{} {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	if c.pubCh == nil {
		c.pubCh = make(chan struct{})
	}
	return c.pubCh
}

// checkSnapshot, when set (by the package's tests), checks every
// snapshot as it is published.
var checkSnapshot func(*Collector, *Snapshot)

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
