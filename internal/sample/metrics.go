package sample

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/recordmetrics"
)

// Label values used when the real value is missing or over the bound (the
// audit counters, recordmetrics.Counters, assign them; kept here for callers that
// filter them out of the source services).
const (
	ServiceUnknown = recordmetrics.ServiceUnknown // the record named no source service
	ServiceOther   = recordmetrics.ServiceOther   // the source_service label bound was reached
)

// Drop reasons of eventwatch_sampler_dropped_records_total.
const (
	DropQueueFull        = "queue_full"           // the audit queue was full (records or bytes)
	DropDecompressTooBig = "decompress_too_large" // a batch decompressed past max_decompressed_batch_bytes and was skipped
	DropAuditPanic       = "audit_panic"          // the auditor or a sink panicked on the record
)

// samplerMetrics holds the sampler's own vectors (what it read, skipped,
// dropped; its group and queue), created once on the injected registry, and
// a per-topic cache of their children. The audit results are counted by a
// sink, recordmetrics.Counters, not here: the sampler only samples.
type samplerMetrics struct {
	observed, skipped                  *prometheus.CounterVec
	dropped, errors, rebal             *prometheus.CounterVec
	unaudited, resets                  *prometheus.CounterVec
	lag                                *prometheus.GaugeVec
	partitions, topics, queued, paused prometheus.Gauge

	mu     sync.RWMutex
	byName map[string]*topicMetrics
}

// topicMetrics are the children of one topic, looked up once.
type topicMetrics struct {
	observed, skipped prometheus.Counter
}

func newSamplerMetrics(reg prometheus.Registerer) *samplerMetrics {
	m := &samplerMetrics{
		observed:   metrics.RecordsObserved.NewCounterVec(reg),
		skipped:    metrics.RecordsSkipped.NewCounterVec(reg),
		dropped:    metrics.SamplerDropped.NewCounterVec(reg),
		errors:     metrics.SamplerErrors.NewCounterVec(reg),
		rebal:      metrics.SamplerRebalances.NewCounterVec(reg),
		lag:        metrics.SamplerLag.NewGaugeVec(reg),
		partitions: metrics.SamplerPartitions.NewGaugeVec(reg).WithLabelValues(),
		topics:     metrics.SamplerTopics.NewGaugeVec(reg).WithLabelValues(),
		queued:     metrics.SamplerQueued.NewGaugeVec(reg).WithLabelValues(),
		paused:     metrics.SamplerPaused.NewGaugeVec(reg).WithLabelValues(),
		unaudited:  metrics.SamplerUnaudited.NewCounterVec(reg),
		resets:     metrics.SamplerPositionResets.NewCounterVec(reg),
		byName:     map[string]*topicMetrics{},
	}
	for _, reason := range []string{DropQueueFull, DropDecompressTooBig, DropAuditPanic} {
		m.dropped.WithLabelValues(reason) // exported at 0 from start, so rate() and its panel have data
	}
	for _, reason := range []string{ReasonHistory, ReasonBeyondEnd, ReasonBelowStart} {
		m.unaudited.WithLabelValues(reason)
		if reason != ReasonHistory {
			m.resets.WithLabelValues(reason)
		}
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
			observed: m.observed.WithLabelValues(topic),
			skipped:  m.skipped.WithLabelValues(topic),
		}
		m.byName[topic] = tm
	}
	return tm
}
