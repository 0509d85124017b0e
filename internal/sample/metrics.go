package sample

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Label values used when the real value is missing or over the bound.
const (
	ServiceUnknown = "unknown" // the record named no source service
	ServiceOther   = "other"   // the source_service label bound was reached
)

// Drop reasons of eventwatch_sampler_dropped_records_total.
const (
	DropQueueFull        = "queue_full"           // the audit queue was full (records or bytes)
	DropDecompressTooBig = "decompress_too_large" // a batch decompressed past max_decompressed_batch_bytes and was skipped
	DropAuditPanic       = "audit_panic"          // the auditor or a sink panicked on the record
)

// samplerMetrics holds the sampler's vectors, created once on the injected
// registry, and a per-topic cache of their children.
type samplerMetrics struct {
	observed, checked, compliant, skipped *prometheus.CounterVec
	violations, dropped, errors, rebal    *prometheus.CounterVec
	size                                  *prometheus.HistogramVec
	lag                                   *prometheus.GaugeVec
	partitions, topics, queued, paused    prometheus.Gauge

	mu     sync.RWMutex
	byName map[string]*topicMetrics

	services *boundedLabels
}

// topicMetrics are the children of one topic, looked up once.
type topicMetrics struct {
	observed, checked, compliant, skipped prometheus.Counter
	size                                  prometheus.Observer
	service                               atomic.Pointer[string] // last source service seen on the topic
}

func newSamplerMetrics(reg prometheus.Registerer, maxServices int) *samplerMetrics {
	m := &samplerMetrics{
		observed:   metrics.RecordsObserved.NewCounterVec(reg),
		checked:    metrics.RecordsChecked.NewCounterVec(reg),
		compliant:  metrics.RecordsCompliant.NewCounterVec(reg),
		skipped:    metrics.RecordsSkipped.NewCounterVec(reg),
		violations: metrics.Violations.NewCounterVec(reg),
		dropped:    metrics.SamplerDropped.NewCounterVec(reg),
		errors:     metrics.SamplerErrors.NewCounterVec(reg),
		rebal:      metrics.SamplerRebalances.NewCounterVec(reg),
		size:       metrics.EventSize.NewHistogramVec(reg),
		lag:        metrics.SamplerLag.NewGaugeVec(reg),
		partitions: metrics.SamplerPartitions.NewGaugeVec(reg).WithLabelValues(),
		topics:     metrics.SamplerTopics.NewGaugeVec(reg).WithLabelValues(),
		queued:     metrics.SamplerQueued.NewGaugeVec(reg).WithLabelValues(),
		paused:     metrics.SamplerPaused.NewGaugeVec(reg).WithLabelValues(),
		byName:     map[string]*topicMetrics{},
		services:   newBoundedLabels(maxServices),
	}
	for _, reason := range []string{DropQueueFull, DropDecompressTooBig, DropAuditPanic} {
		m.dropped.WithLabelValues(reason) // exported at 0 from start, so rate() and its panel have data
	}
	for _, op := range []string{"connect", "poll", "commit", "sink"} {
		m.errors.WithLabelValues(op)
	}
	return m
}

// topic returns the cached children for topic, creating them on first use
// (topics are bounded by the include/exclude filters).
func (m *samplerMetrics) topic(topic string) *topicMetrics {
	m.mu.RLock()
	tm := m.byName[topic]
	m.mu.RUnlock()
	if tm != nil {
		return tm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if tm = m.byName[topic]; tm == nil {
		tm = &topicMetrics{
			observed:  m.observed.WithLabelValues(topic),
			checked:   m.checked.WithLabelValues(topic),
			compliant: m.compliant.WithLabelValues(topic),
			skipped:   m.skipped.WithLabelValues(topic),
			size:      m.size.WithLabelValues(topic),
		}
		m.byName[topic] = tm
	}
	return tm
}

// record counts one audit result.
func (m *samplerMetrics) record(rec *audit.Record, res *audit.Result) {
	tm := m.topic(rec.Topic)
	tm.checked.Inc()
	tm.size.Observe(float64(len(rec.Value)))
	if res.Compliant() {
		tm.compliant.Inc()
	}
	svc := m.services.value(res.Source) // tracked even when compliant: SourceServices lists producers
	tm.noteService(res.Source)
	if len(res.Violations) == 0 {
		return
	}
	for _, v := range res.Violations {
		m.violations.WithLabelValues(v.Rule, rec.Topic, svc, string(v.Severity)).Inc()
	}
}

// noteService remembers src as the topic's producing service; it allocates
// only when the producer changes.
func (tm *topicMetrics) noteService(src string) {
	if src == "" {
		return
	}
	if p := tm.service.Load(); p != nil && *p == src {
		return
	}
	c := strings.Clone(src)
	tm.service.Store(&c)
}

// topicService returns the last source service seen on topic, else on any
// topic named topic+".*" (a DLQ "content.deadletter" names the service of
// "content.book"), else "".
func (m *samplerMetrics) topicService(topic string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if tm := m.byName[topic]; tm != nil {
		if p := tm.service.Load(); p != nil {
			return *p
		}
	}
	best := ""
	for name, tm := range m.byName {
		if p := tm.service.Load(); p != nil && strings.HasPrefix(name, topic+".") && (best == "" || *p < best) {
			best = *p
		}
	}
	return best
}

// boundedLabels hands out at most max distinct label values; later ones
// share the value "other", and an empty value is "unknown".
type boundedLabels struct {
	max  int
	mu   sync.RWMutex
	seen map[string]struct{}
}

func newBoundedLabels(max int) *boundedLabels {
	return &boundedLabels{max: max, seen: map[string]struct{}{}}
}

// list returns the values handed out so far, sorted.
func (b *boundedLabels) list() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]string, 0, len(b.seen))
	for v := range b.seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func (b *boundedLabels) value(v string) string {
	if v == "" {
		return ServiceUnknown
	}
	b.mu.RLock()
	_, ok := b.seen[v]
	n := len(b.seen)
	b.mu.RUnlock()
	if ok {
		return v
	}
	if n >= b.max {
		return ServiceOther
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.seen[v]; ok || len(b.seen) < b.max {
		b.seen[v] = struct{}{}
		return v
	}
	return ServiceOther
}
