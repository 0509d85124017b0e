package share

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/kafka"
	"github.com/eventwatch/eventwatch/internal/metrics"
)

// publishTimeout bounds one Publish when the caller's context has no deadline.
const publishTimeout = 10 * time.Second

// Entry is the latest document of one (kind, replica) pair.
type Entry struct {
	Kind        string          `json:"kind"`         // what the document is
	Replica     string          `json:"replica"`      // who published it
	PublishedAt time.Time       `json:"published_at"` // publisher's clock
	Doc         json.RawMessage `json:"doc"`          // the document
	Stale       bool            `json:"stale"`        // older than stale_after when Entries was called
	Self        bool            `json:"self"`         // published by this replica
}

// envelope is the record value on the topic.
type envelope struct {
	Kind        string          `json:"kind"`
	Replica     string          `json:"replica"`
	PublishedAt time.Time       `json:"published_at"`
	Doc         json.RawMessage `json:"doc"`
}

// Provider returns the document to publish now; ok false skips this round.
type Provider func() (doc any, ok bool)

// Board publishes this replica's documents and holds every replica's
// latest ones. Create it with New and start it with Run.
type Board struct {
	cfg  Config
	id   string
	base []kgo.Opt
	log  *slog.Logger
	now  func() time.Time

	cl      *kgo.Client
	ensured chan struct{} // closed once the topic exists
	synced  atomic.Bool
	errs    *prometheus.CounterVec
	docs    *prometheus.GaugeVec

	mu        sync.RWMutex
	entries   map[string]map[string]Entry // kind -> replica -> latest
	providers map[string]Provider
}

// New validates cfg (after defaults) and returns a board that uses the base
// client options (seeds, SASL, TLS). It does not touch the network.
func New(cfg Config, base []kgo.Opt, reg prometheus.Registerer, log *slog.Logger) (*Board, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validate share config: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	b := &Board{cfg: cfg, id: cfg.replicaID(), base: base, log: log.With("component", "share"), now: time.Now,
		ensured: make(chan struct{}), errs: metrics.SharePublishErrors.NewCounterVec(reg),
		docs: metrics.ShareDocuments.NewGaugeVec(reg), entries: map[string]map[string]Entry{}, providers: map[string]Provider{}}
	opts := append(slices.Clone(base), kgo.ConsumeTopics(cfg.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.ProducerLinger(0), kgo.RecordRetries(3), kgo.FetchMaxWait(time.Second))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create share client: %w", err)
	}
	b.cl = cl
	return b, nil
}

// ReplicaID is this replica's name in the documents it publishes.
func (b *Board) ReplicaID() string { return b.id }

// Synced reports whether the board has read the topic up to where it ended
// when Run started: from then on Entries holds every replica's documents.
func (b *Board) Synced() bool { return b.synced.Load() }

// Provide registers fn to be called every share.interval (and once at
// start); its document is published as kind. A later Provide for the same
// kind replaces fn.
func (b *Board) Provide(kind string, fn Provider) {
	b.mu.Lock()
	b.providers[kind] = fn
	b.mu.Unlock()
}

// Acknowledger is a document that wants to know when it is durable: the
// board calls Published once the broker acknowledged it.
type Acknowledger interface{ Published() }

// Publish writes doc (marshalled to JSON) as this replica's document of
// kind and waits for the broker's acknowledgement, at most ctx's deadline
// or 10s. The document is visible in Entries at once. A doc that
// implements Acknowledger hears when it is durable.
func (b *Board) Publish(ctx context.Context, kind string, doc any) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("marshal %s document: %w", kind, err)
	}
	env := envelope{Kind: kind, Replica: b.id, PublishedAt: b.now().UTC(), Doc: raw}
	val, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("marshal %s envelope: %w", kind, err)
	}
	if err := b.produce(ctx, kind, val); err != nil {
		return err
	}
	b.keep(env)
	if a, ok := doc.(Acknowledger); ok {
		a.Published()
	}
	return nil
}

// Delete publishes a tombstone for this replica's document of kind, so
// every board forgets it.
func (b *Board) Delete(ctx context.Context, kind string) error {
	if err := b.produce(ctx, kind, nil); err != nil {
		return err
	}
	b.forget(kind, b.id)
	return nil
}

func (b *Board) produce(ctx context.Context, kind string, val []byte) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, publishTimeout)
		defer cancel()
	}
	select {
	case <-b.ensured:
	case <-ctx.Done():
		b.errs.WithLabelValues(kind).Inc()
		return fmt.Errorf("publish %s document: topic %s not ready: %w", kind, b.cfg.Topic, ctx.Err())
	}
	rec := &kgo.Record{Topic: b.cfg.Topic, Key: []byte(kind + "/" + b.id), Value: val}
	if err := b.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		b.errs.WithLabelValues(kind).Inc()
		return fmt.Errorf("publish %s document: %w", kind, err)
	}
	return nil
}

// Entries returns the latest document of every replica for kind, sorted by
// replica, each marked stale when older than share.stale_after.
func (b *Board) Entries(kind string) []Entry {
	now := b.now()
	b.mu.RLock()
	out := make([]Entry, 0, len(b.entries[kind]))
	for _, e := range b.entries[kind] {
		e.Stale = now.Sub(e.PublishedAt) > b.cfg.StaleAfter
		e.Self = e.Replica == b.id
		out = append(out, e)
	}
	b.mu.RUnlock()
	slices.SortFunc(out, func(x, y Entry) int { return strings.Compare(x.Replica, y.Replica) })
	return out
}

// Newest returns the most recently published document of kind, by any
// replica, and whether there is one.
func (b *Board) Newest(kind string) (Entry, bool) {
	var best Entry
	found := false
	for _, e := range b.Entries(kind) {
		if !found || e.PublishedAt.After(best.PublishedAt) {
			best, found = e, true
		}
	}
	return best, found
}

// keep stores env unless a newer document of the same pair is held.
func (b *Board) keep(env envelope) {
	b.mu.Lock()
	defer b.mu.Unlock()
	byReplica := b.entries[env.Kind]
	if byReplica == nil {
		byReplica = map[string]Entry{}
		b.entries[env.Kind] = byReplica
	}
	if old, ok := byReplica[env.Replica]; ok && old.PublishedAt.After(env.PublishedAt) {
		return
	}
	byReplica[env.Replica] = Entry{Kind: env.Kind, Replica: env.Replica, PublishedAt: env.PublishedAt, Doc: env.Doc}
}

func (b *Board) forget(kind, replica string) {
	b.mu.Lock()
	delete(b.entries[kind], replica)
	b.mu.Unlock()
}

// Run creates the topic when missing, then reads it from the start and
// publishes the provided documents every share.interval, until ctx is done.
// It returns nil when ctx ends; Kafka errors are retried.
func (b *Board) Run(ctx context.Context) error {
	defer b.cl.Close()
	if _, err := kafka.EnsureTopic(ctx, b.base, kafka.Topic{Name: b.cfg.Topic, Partitions: 1,
		ReplicationFactor: int16(b.cfg.ReplicationFactor), Configs: map[string]*string{"cleanup.policy": ptr("compact")}}, b.log); err != nil {
		return nil //nolint:nilerr // EnsureTopic fails only when ctx ends
	}
	close(b.ensured)
	b.log.Info("sharing state", "topic", b.cfg.Topic, "replica", b.id, "interval", b.cfg.Interval)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.publishLoop(ctx)
	}()
	b.consume(ctx)
	<-done
	return nil
}

// consume reads every document until ctx is done.
func (b *Board) consume(ctx context.Context) {
	end := b.endOffset(ctx)
	if end <= 0 {
		b.synced.Store(true)
	}
	for ctx.Err() == nil {
		fs := b.cl.PollFetches(ctx)
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				b.log.Warn("read shared state", "err", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			b.apply(r)
			if r.Offset+1 >= end {
				b.synced.Store(true)
			}
		})
	}
}

// apply stores one record: a document, or a tombstone.
func (b *Board) apply(r *kgo.Record) {
	kind, replica, ok := strings.Cut(string(r.Key), "/")
	if !ok {
		return
	}
	if r.Value == nil {
		b.forget(kind, replica)
		return
	}
	var env envelope
	if err := json.Unmarshal(r.Value, &env); err != nil || env.Kind != kind || env.Replica != replica {
		b.log.Warn("ignore malformed state document", "key", string(r.Key), "offset", r.Offset)
		return
	}
	b.keep(env)
}

// endOffset lists where the topic ends now, retrying until it succeeds or
// ctx ends (then 0).
func (b *Board) endOffset(ctx context.Context) int64 {
	wait := 500 * time.Millisecond
	for ctx.Err() == nil {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ends, err := kadm.NewClient(b.cl).ListEndOffsets(lctx, b.cfg.Topic)
		cancel()
		if err == nil {
			if o, ok := ends.Lookup(b.cfg.Topic, 0); ok && o.Err == nil {
				return o.Offset
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
	return 0
}

// publishLoop publishes every provided kind at once and then every
// interval, and refreshes the document gauges.
func (b *Board) publishLoop(ctx context.Context) {
	t := time.NewTicker(b.cfg.Interval)
	defer t.Stop()
	for {
		b.publishProvided(ctx)
		b.updateGauges()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Board) publishProvided(ctx context.Context) {
	b.mu.RLock()
	kinds := make(map[string]Provider, len(b.providers))
	for k, fn := range b.providers {
		kinds[k] = fn
	}
	b.mu.RUnlock()
	for kind, fn := range kinds {
		doc, ok := fn()
		if !ok {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, b.cfg.Interval+publishTimeout)
		if err := b.Publish(pctx, kind, doc); err != nil && ctx.Err() == nil {
			b.log.Warn("publish state document", "kind", kind, "err", err)
		}
		cancel()
	}
}

func (b *Board) updateGauges() {
	b.mu.RLock()
	kinds := make([]string, 0, len(b.entries))
	for k := range b.entries {
		kinds = append(kinds, k)
	}
	b.mu.RUnlock()
	for _, k := range kinds {
		fresh, stale := 0, 0
		for _, e := range b.Entries(k) {
			if e.Stale {
				stale++
			} else {
				fresh++
			}
		}
		b.docs.WithLabelValues(k, "fresh").Set(float64(fresh))
		b.docs.WithLabelValues(k, "stale").Set(float64(stale))
	}
}

func ptr[T any](v T) *T { return &v }
