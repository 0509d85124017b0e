package dlq

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/kafka"
	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/recordmetrics"
)

// Auditor audits one record (the daemon's per-topic router): the triage
// takes a dead letter's identity (owning service, event id and type) from
// its result.
type Auditor interface {
	Check(rec *event.Record) event.Result
}

// OtherClass is the error class of causes beyond dlq.triage.max_classes on
// one topic.
const OtherClass = "other"

// maxSamples is how many sample coordinates a cause keeps (the newest).
const maxSamples = 3

// Triage reads every dead-letter topic from its log start with a
// group-less consumer (it commits nothing and disturbs no group) and
// groups the dead letters by cause: error class, original topic, original
// consumer group, event type and owning service. Every replica reads every
// dead-letter topic, so each answers GET /api/v1/dlq with the whole
// estate; counts are exact (every record is read once per process start).
type Triage struct {
	cfg     TriageConfig
	isDLQ   func(topic string) bool
	auditor Auditor
	opts    []kgo.Opt
	log     *slog.Logger
	now     func() time.Time
	names   func(maxAge time.Duration) ([]string, bool) // another lister's topic names (TopicsFrom); nil: list them here

	read *prometheus.CounterVec

	mu     sync.RWMutex
	topics map[string]*topicTriage
}

// topicTriage is the triage of one dead-letter topic.
type topicTriage struct {
	records     int64
	first, last time.Time
	causes      map[CauseKey]*cause
	classes     map[string]bool // distinct error classes kept (bounded by max_classes)
}

// CauseKey is what a cause is: the dimensions triage groups by.
type CauseKey struct {
	ErrorClass    string `json:"error_class"`              // normalised exception class and message
	OriginalTopic string `json:"original_topic,omitempty"` // topic the original was consumed from
	ConsumerGroup string `json:"consumer_group,omitempty"` // the consumer group that failed, when the letter says
	EventType     string `json:"event_type,omitempty"`     // the original's event type
	Service       string `json:"service"`                  // owning service of the original ("unknown" when nothing names one)
}

type cause struct {
	exception   string
	count       int64
	first, last time.Time
	hours       map[int64]int64 // UTC hour (unix seconds) -> dead letters
	samples     []Sample        // newest last
}

// Sample is where to find one dead letter of a cause.
type Sample struct {
	Partition int32     `json:"partition"`          // partition of the dead letter
	Offset    int64     `json:"offset"`             // its offset
	EventID   string    `json:"event_id,omitempty"` // the original's event id
	Time      time.Time `json:"time"`               // its record timestamp
}

// NewTriage builds the triage reader. opts are the Kafka client options
// (brokers, TLS, SASL); isDLQ says which topics are dead-letter topics.
func NewTriage(cfg TriageConfig, opts []kgo.Opt, isDLQ func(string) bool, auditor Auditor, reg prometheus.Registerer, log *slog.Logger) *Triage {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Triage{cfg: cfg, isDLQ: isDLQ, auditor: auditor, opts: opts, log: log.With("component", "dlq"),
		now: time.Now, topics: map[string]*topicTriage{}}
	if reg == nil {
		reg = prometheus.NewRegistry() // metrics nobody scrapes
	}
	t.read = metrics.DLQTriageRecords.NewCounterVec(reg)
	reg.MustRegister(&causeCollector{t: t})
	return t
}

// TopicsFrom makes discovery take the cluster's topic names from names
// (the sampler's listing, sample.Sampler.TopicNames) when it has a
// listing younger than two triage refreshes, instead of asking Kafka for
// every partition's metadata once more; without one the triage lists the
// topics itself. Call it before Run.
func (t *Triage) TopicsFrom(names func(maxAge time.Duration) ([]string, bool)) { t.names = names }

// Run reads the dead-letter topics until ctx is done, looking for new ones
// every dlq.triage.refresh.
func (t *Triage) Run(ctx context.Context) error {
	opts := append(slices.Clone(t.opts), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.MetadataMinAge(time.Second))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("dlq triage client: %w", err)
	}
	defer cl.Close()
	go t.discover(ctx, cl)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.log.Debug("dlq triage fetch", "topic", topic, "partition", p, "err", err)
		})
		fs.EachRecord(t.observe)
	}
}

// discover adds dead-letter topics to the consumer as they appear.
func (t *Triage) discover(ctx context.Context, cl *kgo.Client) {
	seen := map[string]bool{}
	tick := time.NewTicker(t.cfg.Refresh)
	defer tick.Stop()
	for {
		if names, err := t.topicNames(ctx, cl); err == nil {
			var add []string
			for _, name := range names {
				if !seen[name] && t.isDLQ(name) {
					seen[name] = true
					add = append(add, name)
				}
			}
			if len(add) > 0 {
				t.log.Info("triaging dead-letter topics", "topics", add)
				cl.AddConsumeTopics(add...)
			}
		} else if ctx.Err() == nil {
			t.log.Warn("list topics for dlq triage", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// topicNames is the cluster's topics: another lister's when it has a
// fresh listing, else this client's.
func (t *Triage) topicNames(ctx context.Context, cl *kgo.Client) ([]string, error) {
	if t.names != nil {
		if names, ok := t.names(2 * t.cfg.Refresh); ok {
			return names, nil
		}
	}
	return TopicNames(ctx, cl)
}

// TopicNames lists the cluster's topics (internal ones left out) with one
// all-topics Metadata request sent to a broker directly, whose answer the
// client does not keep. kadm.ListTopics goes through the client, which
// caches every topic's partitions from the answer (megabytes at estate
// size, held by a client that consumes a few dead-letter topics); the
// brokers are tried in turn until one answers (no retries: the next
// refresh tries again).
func TopicNames(ctx context.Context, cl *kgo.Client) ([]string, error) {
	meta, err := kafka.Metadata(ctx, cl)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(meta.Topics))
	for _, tp := range meta.Topics {
		if tp.Topic != nil && !tp.IsInternal {
			names = append(names, *tp.Topic)
		}
	}
	return names, nil
}

// observe triages one dead letter.
func (t *Triage) observe(r *kgo.Record) {
	rec := toAudit(r)
	res := t.auditor.Check(rec)
	l := Read(rec, &res)
	t.read.WithLabelValues(r.Topic).Inc()
	t.Add(&l)
}

// toAudit converts a franz-go record to the audit engine's record (sharing
// its buffers).
func toAudit(r *kgo.Record) *event.Record {
	rec := &event.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
	for _, h := range r.Headers {
		rec.Headers = append(rec.Headers, event.Header{Key: h.Key, Value: h.Value})
	}
	return rec
}

// Add counts one dead letter under its cause.
func (t *Triage) Add(l *Letter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tt := t.topics[l.Topic]
	if tt == nil {
		tt = &topicTriage{causes: map[CauseKey]*cause{}, classes: map[string]bool{}}
		t.topics[l.Topic] = tt
	}
	tt.records++
	tt.first, tt.last = minTime(tt.first, l.Time), maxTime(tt.last, l.Time)
	k := t.keyOf(tt, l)
	c := tt.causes[k]
	if c == nil {
		c = &cause{exception: l.ExceptionClass, hours: map[int64]int64{}}
		tt.causes[k] = c
	}
	c.count++
	c.first, c.last = minTime(c.first, l.Time), maxTime(c.last, l.Time)
	c.hours[l.Time.UTC().Truncate(time.Hour).Unix()]++
	c.samples = append(c.samples, Sample{Partition: l.Partition, Offset: l.Offset, EventID: l.EventID, Time: l.Time})
	if len(c.samples) > maxSamples {
		c.samples = c.samples[1:]
	}
	t.prune(c)
}

// keyOf is l's cause key, with the error class bounded per topic.
func (t *Triage) keyOf(tt *topicTriage, l *Letter) CauseKey {
	class := l.ErrorClass
	if !tt.classes[class] {
		if len(tt.classes) >= t.cfg.MaxClasses {
			class = OtherClass
		} else {
			tt.classes[class] = true
		}
	}
	svc := l.Service
	if svc == "" {
		svc = recordmetrics.ServiceUnknown
	}
	return CauseKey{ErrorClass: class, OriginalTopic: l.OriginalTopic, ConsumerGroup: l.ConsumerGroup, EventType: l.EventType, Service: svc}
}

// prune drops trend buckets older than dlq.triage.retention.
func (t *Triage) prune(c *cause) {
	if len(c.hours) <= int(t.cfg.Retention/time.Hour)+1 {
		return
	}
	cut := t.now().Add(-t.cfg.Retention).Unix()
	for h := range c.hours {
		if h < cut {
			delete(c.hours, h)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// causeCollector exports eventwatch_dlq_cause_records from the triage
// state on scrape (no Kafka call).
type causeCollector struct{ t *Triage }

func (c *causeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- metrics.DLQCauseRecords.Desc() }

func (c *causeCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ topic, class, svc string }
	sums := map[key]int64{}
	c.t.mu.RLock()
	for topic, tt := range c.t.topics {
		for k, cs := range tt.causes {
			sums[key{topic, k.ErrorClass, k.Service}] += cs.count
		}
	}
	c.t.mu.RUnlock()
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { // the registry sorts the series again; this keeps Collect's order stable, without formatting every key per comparison
		return cmp.Or(strings.Compare(a.topic, b.topic), strings.Compare(a.class, b.class), strings.Compare(a.svc, b.svc))
	})
	for _, k := range keys {
		ch <- prometheus.MustNewConstMetric(metrics.DLQCauseRecords.Desc(), prometheus.GaugeValue, float64(sums[k]), k.topic, k.class, k.svc)
	}
}
