package ledger

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/store"
)

// Ledger holds the hourly report aggregates of audited records in memory,
// per partition with the offset range they cover, and flushes them to the
// store with the partitions' positions in one fenced transaction. It is an
// event.Sink (Observe) and the sampler's accounting (Accounts). Create it
// with New, start Run in its own goroutine and give it to the sampler
// (sample.WithLedger); SetListener(sampler) closes the loop.
type Ledger struct {
	store    store.Store
	cfg      store.Config
	cluster  ClusterSource
	examples func([]store.Example) // told about every violation example as it is audited (live stream)
	log      *slog.Logger
	now      func() time.Time
	m        ledgerMetrics

	group    string
	listener Listener

	mu      sync.Mutex
	pending *buffer            // aggregates not attributed to an acquired partition, and cluster samples
	parts   map[tp]*partLedger // per partition the sampler reads: open records and closed segments
	closed  map[tp]*partLedger // the partitions of parts that closed a segment since the last take (take walks these, not all of parts)
	rows    int                // rows held in pending and parts, kept as they change (recount checks it)

	idWindow  time.Duration         // duplicate.event_id window of the remembered ids; 0: ids are not remembered (ids.go)
	foundDups func([]store.Example) // told about duplicates found in the store, after their flush committed
	metas     map[idMeta]*idMeta    // interned dimensions of held ids; l.mu
	idCount   idCount               // remembered ids in the store, for eventwatch_store_event_ids; l.flushMu
	expiry    idExpiry              // the last expiry of remembered ids; l.flushMu

	flushMu     sync.Mutex          // one flush at a time
	lastSample  time.Time           // end of the last cluster sample window
	lagHold     time.Duration       // how long the periodic flush holds a group's lag rows (laghold.go)
	held        map[lagKey]*heldLag // lag rows not yet buffered; flushMu
	samples     uint64              // cluster samples taken; flushMu
	lastPrune   time.Time
	onFlushDone func(err error) // test hook, called after every flush
}

type ledgerMetrics struct {
	flushes   *prometheus.CounterVec
	last      prometheus.Gauge
	buffered  prometheus.Gauge
	dropped   prometheus.Counter
	duration  prometheus.Observer
	conflicts prometheus.Counter
	refused   prometheus.Counter // ranges refused as a protocol breach (refuseRange)
	ids       prometheus.Gauge   // remembered event ids in the store (ids.go)
	expired   prometheus.Counter // remembered event ids expired
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithClusterSource makes each flush sample src (DLQ growth, lag breach,
// propagation coverage) into the store. Without it those report sections are
// empty.
func WithClusterSource(src ClusterSource) Option {
	return func(l *Ledger) { l.cluster = src }
}

// WithExamples calls publish with the violation examples of every audited
// record, on the sampler's goroutine (publish must not block); the report
// API's live stream uses it.
func WithExamples(publish func([]store.Example)) Option {
	return func(l *Ledger) { l.examples = publish }
}

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option {
	return func(l *Ledger) { l.now = now }
}

// New returns a ledger writing to st with the flush interval, example
// bound and buffer limit of cfg (defaults applied to unset fields). Its
// metrics are registered on reg.
func New(st store.Store, cfg store.Config, reg prometheus.Registerer, log *slog.Logger, opts ...Option) *Ledger {
	cfg.SetDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Ledger{
		store:   st,
		cfg:     cfg,
		log:     log.With("component", "ledger"),
		now:     time.Now,
		pending: newBuffer(),
		parts:   map[tp]*partLedger{},
		closed:  map[tp]*partLedger{},
		group:   "eventwatch",
		lagHold: DefaultLagHold,
		m: ledgerMetrics{
			flushes:   metrics.StoreFlushes.NewCounterVec(reg),
			last:      metrics.StoreLastFlushSuccess.NewGaugeVec(reg).WithLabelValues(),
			buffered:  metrics.StoreBuffered.NewGaugeVec(reg).WithLabelValues(),
			dropped:   metrics.StoreDropped.NewCounterVec(reg).WithLabelValues(),
			duration:  metrics.StoreFlushDuration.NewHistogramVec(reg).WithLabelValues(),
			conflicts: metrics.StorePositionConflicts.NewCounterVec(reg).WithLabelValues(),
			refused:   metrics.StoreRefusedRanges.NewCounterVec(reg).WithLabelValues(),
			ids:       metrics.StoreEventIDs.NewGaugeVec(reg).WithLabelValues(),
			expired:   metrics.StoreExpiredEventIDs.NewCounterVec(reg).WithLabelValues(),
		},
	}
	for _, o := range opts {
		o(l)
	}
	l.m.flushes.WithLabelValues("ok")
	l.m.flushes.WithLabelValues("error")
	l.lastSample = l.now()
	return l
}

// Observe adds one audited record to the current hour's aggregates. It never
// blocks on I/O and keeps nothing of rec's key, value or headers. Records of
// an acquired partition are held with it until its next Advance and are
// never dropped (a full buffer makes Saturated true instead); records of a
// released partition are ignored; any other record is added to the
// unpositioned buffer, dropped (and counted) when it is full.
func (l *Ledger) Observe(rec *event.Record, res *event.Result) {
	now := l.now()
	k := recKey{hour: store.HourOf(now).Unix(), service: clip(res.Source), topic: clip(rec.Topic), eventType: clip(res.EventType)}
	c := counts{checked: 1}
	if res.Compliant() {
		c.compliant = 1
	}
	limit, maxEx := l.cfg.BufferLimit, l.cfg.MaxExamples
	var exs []store.Example
	if len(res.Violations) > 0 {
		exs = examplesOf(k, now, rec, res)
	}
	id, hasID := l.idOf(rec, res, now)
	dropped := 0
	l.mu.Lock()
	dst := l.pending
	if p := l.parts[tp{rec.Topic, rec.Partition}]; p != nil {
		if p.released {
			l.mu.Unlock()
			return
		}
		dst, limit = &p.open, math.MaxInt
		p.span.note(rec.Offset)
	}
	before := dst.size()
	if !dst.addRecord(k, c, limit) {
		dropped++
	}
	for _, ex := range exs {
		dropped += l.addViolation(dst, k, ex, maxEx, limit)
	}
	if hasID {
		id.meta = l.internMeta(idMeta{rec: k, severity: clip(string(res.IDCheck.Severity)), profile: clipID(res.Profile), field: clipID(res.IDCheck.Field)})
		if !dst.addID(id, limit) {
			dropped++
		}
	}
	l.rows += dst.size() - before
	size := l.rows
	l.mu.Unlock()
	if l.examples != nil && len(exs) > 0 {
		l.examples(exs)
	}
	l.m.buffered.Set(float64(size))
	if dropped > 0 {
		l.m.dropped.Add(float64(dropped))
	}
}

// addViolation counts v in dst and keeps it as an example; l.mu is held.
// It returns the number of rows that did not fit.
func (l *Ledger) addViolation(dst *buffer, k recKey, ex store.Example, maxEx, limit int) int {
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
func examplesOf(k recKey, now time.Time, rec *event.Record, res *event.Result) []store.Example {
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
	s, cut := storable(s, maxMessage)
	if cut {
		s += "…"
	}
	return s
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
func (l *Ledger) Run(ctx context.Context) error {
	t := time.NewTicker(l.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := l.Flush(final)
			cancel()
			if err != nil {
				l.log.Error("final flush failed; the records it held are read again after the restart (their positions were not stored)", "err", err)
			}
			return nil
		case <-t.C:
			if err := l.flushDue(ctx); err != nil {
				l.log.Warn("flush failed; aggregates kept in memory for the next flush", "err", err)
			}
			l.prune(ctx)
		}
	}
}

// maxConflictRetries bounds how often one flush drops what the store
// already holds and writes the rest again.
const maxConflictRetries = 3

// Flush samples the cluster source and writes every buffered aggregate
// (the held lag rows too), with the positions of the closed partition
// segments, to the store in one transaction. On failure the rows go back
// to the buffer.
func (l *Ledger) Flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	return l.flushLocked(ctx, true)
}

// flushDue is the periodic flush: Flush with the groups' lag rows written
// only when due (laghold.go).
func (l *Ledger) flushDue(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	return l.flushLocked(ctx, false)
}

// flushLocked is Flush with l.flushMu held; all: write every held lag
// row, not only the due ones.
func (l *Ledger) flushLocked(ctx context.Context, all bool) error {
	l.sampleCluster(all)
	l.mu.Lock()
	t := l.take()
	l.mu.Unlock()
	b, found, err := l.writeTaken(ctx, t)
	if err == nil {
		l.afterIDs(ctx, b, found)
	}
	if err != nil {
		if dropped := l.restoreTaken(t); dropped > 0 {
			l.m.dropped.Add(float64(dropped))
			l.log.Warn("report buffer full; unpositioned aggregate rows dropped", "dropped", dropped, "limit", l.cfg.BufferLimit)
		}
	} else if l.listener != nil && len(b.Advances) > 0 {
		l.listener.Stored(positions(b))
	}
	l.m.buffered.Set(float64(l.bufferedRows()))
	if l.onFlushDone != nil {
		l.onFlushDone(err)
	}
	return err
}

// writeTaken writes t, and when the store's positions moved under it
// (store.ConflictError) drops what is already stored and tries again.
// The event ids of t are judged in the same transaction (attachIDs); the
// duplicates it found are returned with the batch.
func (l *Ledger) writeTaken(ctx context.Context, t *taken) (*store.Batch, []store.Example, error) {
	var found []store.Example
	for attempt := 0; ; attempt++ {
		b, all := t.batch(l.group, l.cfg.MaxExamples)
		found = found[:0]
		l.attachIDs(b, all, &found)
		err := l.write(ctx, b)
		c, conflict := store.IsConflict(err)
		if !conflict || attempt == maxConflictRetries {
			return b, found, err
		}
		l.resolve(t, c)
	}
}

func (l *Ledger) write(ctx context.Context, b *store.Batch) error {
	start := l.now()
	var err error
	if b.Len() > 0 || len(b.Advances) > 0 {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout(l.cfg.FlushInterval, len(b.IDs)))
		err = l.store.Write(wctx, b)
		cancel()
	}
	l.m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		l.m.flushes.WithLabelValues("error").Inc()
		return fmt.Errorf("write %d aggregate rows: %w", b.Len(), err)
	}
	l.m.flushes.WithLabelValues("ok").Inc()
	l.m.last.Set(float64(l.now().UnixNano()) / 1e9)
	return nil
}

// idWriteBudget is the write time allowed per remembered event id on top
// of the flush interval: about four times the measured cost on a loaded
// machine, so the large flush after a store outage (up to
// store.buffer_limit × idsPerRow ids) completes instead of timing out
// and being retried for ever.
const idWriteBudget = 200 * time.Microsecond

// writeTimeout bounds one store write of a batch holding ids event ids.
func writeTimeout(interval time.Duration, ids int) time.Duration {
	return max(interval, 5*time.Second) + time.Duration(ids)*idWriteBudget
}

func (l *Ledger) bufferedRows() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rows
}

// prune deletes rows older than the retention, at most once an hour.
func (l *Ledger) prune(ctx context.Context) {
	now := l.now()
	if now.Sub(l.lastPrune) < time.Hour {
		return
	}
	l.lastPrune = now
	n, err := l.store.Prune(ctx, now.Add(-l.cfg.Retention()))
	if err != nil {
		l.log.Warn("prune report store", "err", err)
		return
	}
	if n > 0 {
		l.log.Info("pruned report store", "rows", n, "retention_weeks", l.cfg.RetentionWeeks)
	}
}
