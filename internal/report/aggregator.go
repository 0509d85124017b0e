package report

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
)

// Aggregator collects hourly report aggregates in memory and flushes them to
// a store. It implements audit.Sink. Create it with NewAggregator, start Run
// in its own goroutine, and register Routes on the HTTP mux.
type Aggregator struct {
	store   store.Store
	cfg     store.Config
	rcfg    Config
	cluster ClusterSource
	drift   func() []CatalogDifference
	log     *slog.Logger
	now     func() time.Time
	m       aggMetrics

	group    string
	listener PositionListener

	mu      sync.Mutex
	pending *buffer                  // aggregates not attributed to an acquired partition, and cluster samples
	parts   map[tp]*partLedger       // per partition the sampler reads: open records and closed segments
	rows    int                      // rows held in pending and parts
	live    *live                    // stream subscriptions (GET /api/v1/violations/stream)
	owners  atomic.Pointer[team.Map] // service -> team, for ?team= scopes

	flushMu     sync.Mutex // one flush at a time
	lastSample  time.Time  // end of the last cluster sample window
	lastPrune   time.Time
	onFlushDone func(err error) // test hook, called after every flush
}

type aggMetrics struct {
	flushes   *prometheus.CounterVec
	last      prometheus.Gauge
	buffered  prometheus.Gauge
	dropped   prometheus.Counter
	duration  prometheus.Observer
	conflicts prometheus.Counter
}

// Option configures an Aggregator.
type Option func(*Aggregator)

// WithClusterSource makes each flush sample src (DLQ growth, lag breach,
// propagation coverage) into the store. Without it those report sections are
// empty.
func WithClusterSource(src ClusterSource) Option {
	return func(a *Aggregator) { a.cluster = src }
}

// WithCatalogDrift adds the catalog-drift section to the whole-estate
// report of the week in progress, from drift (called per report).
func WithCatalogDrift(drift func() []CatalogDifference) Option {
	return func(a *Aggregator) { a.drift = drift }
}

// WithReportConfig sets the report settings (time zone) used by Routes.
func WithReportConfig(c Config) Option {
	return func(a *Aggregator) { a.rcfg = c }
}

// NewAggregator returns an aggregator writing to st with the flush interval,
// example bound and buffer limit of cfg (defaults applied to unset fields).
// Its metrics are registered on reg.
func NewAggregator(st store.Store, cfg store.Config, reg prometheus.Registerer, log *slog.Logger, opts ...Option) *Aggregator {
	cfg.SetDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Aggregator{
		store:   st,
		cfg:     cfg,
		log:     log.With("component", "report"),
		now:     time.Now,
		pending: newBuffer(),
		live:    newLive(reg),
		parts:   map[tp]*partLedger{},
		group:   "eventwatch",
		m: aggMetrics{
			flushes:   metrics.StoreFlushes.NewCounterVec(reg),
			last:      metrics.StoreLastFlushSuccess.NewGaugeVec(reg).WithLabelValues(),
			buffered:  metrics.StoreBuffered.NewGaugeVec(reg).WithLabelValues(),
			dropped:   metrics.StoreDropped.NewCounterVec(reg).WithLabelValues(),
			duration:  metrics.StoreFlushDuration.NewHistogramVec(reg).WithLabelValues(),
			conflicts: metrics.StorePositionConflicts.NewCounterVec(reg).WithLabelValues(),
		},
	}
	a.rcfg.SetDefaults()
	for _, o := range opts {
		o(a)
	}
	a.m.flushes.WithLabelValues("ok")
	a.m.flushes.WithLabelValues("error")
	a.lastSample = a.now()
	return a
}

// Observe adds one audited record to the current hour's aggregates. It never
// blocks on I/O and keeps nothing of rec's key, value or headers. Records of
// an acquired partition are held with it until its next Advance and are
// never dropped (a full buffer makes Saturated true instead); records of a
// released partition are ignored; any other record is added to the
// unpositioned buffer, dropped (and counted) when it is full.
func (a *Aggregator) Observe(rec *audit.Record, res *audit.Result) {
	now := a.now()
	k := recKey{hour: store.HourOf(now).Unix(), service: clip(res.Source), topic: clip(rec.Topic), eventType: clip(res.EventType)}
	c := counts{checked: 1}
	if res.Compliant() {
		c.compliant = 1
	}
	limit, maxEx := a.cfg.BufferLimit, a.cfg.MaxExamples
	var exs []store.Example
	if len(res.Violations) > 0 {
		exs = examplesOf(k, now, rec, res)
	}
	dropped := 0
	a.mu.Lock()
	dst := a.pending
	if p := a.parts[tp{rec.Topic, rec.Partition}]; p != nil {
		if p.released {
			a.mu.Unlock()
			return
		}
		dst, limit = p.open, math.MaxInt
	}
	before := dst.size()
	if !dst.addRecord(k, c, limit) {
		dropped++
	}
	for _, ex := range exs {
		dropped += a.addViolation(dst, k, ex, maxEx, limit)
	}
	a.rows += dst.size() - before
	size := a.rows
	a.mu.Unlock()
	a.live.publish(exs)
	a.m.buffered.Set(float64(size))
	if dropped > 0 {
		a.m.dropped.Add(float64(dropped))
	}
}

// addViolation counts v in dst and keeps it as an example; a.mu is held.
// It returns the number of rows that did not fit.
func (a *Aggregator) addViolation(dst *buffer, k recKey, ex store.Example, maxEx, limit int) int {
	dropped := 0
	if !dst.addViolation(violKey{rec: k, rule: ex.Rule, severity: ex.Severity, profile: ex.Profile}, 1, limit) {
		dropped++
	}
	if !dst.addExample(exKey{rule: ex.Rule, service: ex.Service, topic: ex.Topic}, ex, maxEx, limit) {
		dropped++
	}
	return dropped
}

// examplesOf turns res's violations into examples: the reason and where
// the record is, never its content.
func examplesOf(k recKey, now time.Time, rec *audit.Record, res *audit.Result) []store.Example {
	out := make([]store.Example, len(res.Violations))
	base := store.Example{Hour: hourTime(k.hour), Observed: now, Service: k.service, Topic: k.topic, EventType: k.eventType,
		Partition: rec.Partition, Offset: rec.Offset, EventID: clipID(res.EventID), Time: rec.Timestamp, Profile: clipID(res.Profile),
		SchemaID: res.SchemaID}
	for i, v := range res.Violations {
		e := base
		e.Rule, e.Severity = clip(v.Rule), clip(string(v.Severity))
		e.Message, e.Field = clipText(v.Message), clipID(v.Field)
		out[i] = e
	}
	return out
}

// maxMessage bounds a stored violation message.
const maxMessage = 500

// clipText is clip for messages: valid UTF-8 without NUL bytes, at most
// maxMessage bytes, cut on a rune boundary.
func clipText(s string) string {
	if len(s) <= maxLabel {
		return clip(s)
	}
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// clipID keeps an event id readable in a reference, without the "unknown"
// substitution of clip.
func clipID(id string) string {
	if id == "" {
		return ""
	}
	return clip(id)
}

// Run flushes every flush interval until ctx ends, then flushes once more
// with a short deadline of its own. It returns nil on a clean shutdown;
// flush failures are logged, counted and retried, never returned.
func (a *Aggregator) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			a.live.close()
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := a.Flush(final)
			cancel()
			if err != nil {
				a.log.Error("final flush failed; the records it held are read again after the restart (their positions were not stored)", "err", err)
			}
			return nil
		case <-t.C:
			if err := a.Flush(ctx); err != nil {
				a.log.Warn("flush failed; aggregates kept in memory for the next flush", "err", err)
			}
			a.prune(ctx)
		}
	}
}

// maxConflictRetries bounds how often one flush drops what the store
// already holds and writes the rest again.
const maxConflictRetries = 3

// Flush samples the cluster source and writes every buffered aggregate,
// with the positions of the closed partition segments, to the store in one
// transaction. On failure the rows go back to the buffer.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	return a.flushLocked(ctx)
}

// flushLocked is Flush with a.flushMu held.
func (a *Aggregator) flushLocked(ctx context.Context) error {
	a.sampleCluster()
	a.mu.Lock()
	t := a.take()
	a.recount()
	a.mu.Unlock()
	b, err := a.writeTaken(ctx, t)
	if err != nil {
		if dropped := a.restoreTaken(t); dropped > 0 {
			a.m.dropped.Add(float64(dropped))
			a.log.Warn("report buffer full; unpositioned aggregate rows dropped", "dropped", dropped, "limit", a.cfg.BufferLimit)
		}
	} else if a.listener != nil && len(b.Advances) > 0 {
		a.listener.Stored(positions(b))
	}
	a.m.buffered.Set(float64(a.bufferedRows()))
	if a.onFlushDone != nil {
		a.onFlushDone(err)
	}
	return err
}

// writeTaken writes t, and when the store's positions moved under it
// (store.ConflictError) drops what is already stored and tries again.
func (a *Aggregator) writeTaken(ctx context.Context, t *taken) (*store.Batch, error) {
	for attempt := 0; ; attempt++ {
		b := t.batch(a.group, a.cfg.MaxExamples)
		err := a.write(ctx, b)
		c, conflict := store.IsConflict(err)
		if !conflict || attempt == maxConflictRetries {
			return b, err
		}
		a.resolve(t, c)
	}
}

func (a *Aggregator) write(ctx context.Context, b *store.Batch) error {
	start := a.now()
	var err error
	if b.Len() > 0 || len(b.Advances) > 0 {
		wctx, cancel := context.WithTimeout(ctx, max(a.cfg.FlushInterval, 5*time.Second))
		err = a.store.Write(wctx, b)
		cancel()
	}
	a.m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		a.m.flushes.WithLabelValues("error").Inc()
		return fmt.Errorf("write %d aggregate rows: %w", b.Len(), err)
	}
	a.m.flushes.WithLabelValues("ok").Inc()
	a.m.last.Set(float64(a.now().UnixNano()) / 1e9)
	return nil
}

func (a *Aggregator) bufferedRows() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rows
}

// prune deletes rows older than the retention, at most once an hour.
func (a *Aggregator) prune(ctx context.Context) {
	now := a.now()
	if now.Sub(a.lastPrune) < time.Hour {
		return
	}
	a.lastPrune = now
	n, err := a.store.Prune(ctx, now.Add(-a.cfg.Retention()))
	if err != nil {
		a.log.Warn("prune report store", "err", err)
		return
	}
	if n > 0 {
		a.log.Info("pruned report store", "rows", n, "retention_weeks", a.cfg.RetentionWeeks)
	}
}
