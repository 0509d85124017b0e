package recordmetrics

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Transport label values of eventwatch_violations_total: where the audited
// record or message came from.
const (
	TransportKafka     = "kafka"     // a record sampled from a Kafka topic
	TransportWebSocket = "websocket" // a message (or endpoint finding) of a probed WebSocket endpoint
)

// Label values used when a record's source service is missing or over the
// bound of distinct values.
const (
	ServiceUnknown = "unknown" // the record named no source service
	ServiceOther   = "other"   // the source_service label bound was reached
)

// Counters is the Sink that turns audit results into the audit metrics:
// eventwatch_records_checked_total, eventwatch_records_compliant_total,
// eventwatch_event_size_bytes and eventwatch_violations_total. It also
// remembers which source services produced where (SourceServices,
// TopicService), within the same bound as the source_service label. The
// daemon hands it to the sampler first among the sinks; create it with
// NewCounters. It is safe for concurrent use.
type Counters struct {
	checked, compliant, violations *prometheus.CounterVec
	size                           *prometheus.HistogramVec

	mu     sync.RWMutex
	byName map[string]*topicCounters

	services *boundedLabels
}

// topicCounters are the children of one topic, looked up once.
type topicCounters struct {
	checked, compliant prometheus.Counter
	size               prometheus.Observer
	service            atomic.Pointer[string] // last source service seen on the topic
}

// NewCounters registers the audit metrics on reg. maxServices bounds the
// distinct source_service label values (sample.max_source_services); later
// ones share the value "other".
func NewCounters(reg prometheus.Registerer, maxServices int) *Counters {
	return &Counters{
		checked:    metrics.RecordsChecked.NewCounterVec(reg),
		compliant:  metrics.RecordsCompliant.NewCounterVec(reg),
		violations: metrics.Violations.NewCounterVec(reg),
		size:       metrics.EventSize.NewHistogramVec(reg),
		byName:     map[string]*topicCounters{},
		services:   newBoundedLabels(maxServices),
	}
}

// Observe counts one audit result (Sink).
func (c *Counters) Observe(rec *event.Record, res *event.Result) {
	tc := c.topic(rec.Topic)
	tc.checked.Inc()
	tc.size.Observe(float64(len(rec.Value)))
	if res.Compliant() {
		tc.compliant.Inc()
	}
	svc := c.services.value(res.Source) // tracked even when compliant: SourceServices lists producers
	tc.noteService(res.Source)
	for _, v := range res.Violations {
		c.violations.WithLabelValues(v.Rule, rec.Topic, svc, string(v.Severity), TransportKafka).Inc()
	}
}

// CountViolation counts one violation found outside the Kafka records (the
// WebSocket prober's findings: transport "websocket", topic the endpoint
// path) in eventwatch_violations_total. Its topics and services are bounded
// by the configuration (websocket.targets), so they are neither counted
// against sample.max_source_services nor noted as producing services (a
// WebSocket service is not a Kafka producer: dlq.missing must not ask it
// for a dead-letter topic).
func (c *Counters) CountViolation(transport, topic, service, rule string, sev event.Severity) {
	if service == "" {
		service = ServiceUnknown
	}
	c.violations.WithLabelValues(rule, topic, service, string(sev), transport).Inc()
}

// AddViolation counts one violation of a Kafka record found after the
// record was observed (a duplicate.event_id the ledger found in the store,
// whose first copy was read before a restart or by another replica): the
// same series as Observe's, with the source_service label bounded alike.
func (c *Counters) AddViolation(topic, service string, v event.Violation) {
	c.violations.WithLabelValues(v.Rule, topic, c.services.value(service), string(v.Severity), TransportKafka).Inc()
}

// SourceServices returns the source services named by audited records so
// far, sorted; at most maxServices of them (the same bound as the
// source_service label).
func (c *Counters) SourceServices() []string { return c.services.list() }

// TopicService returns the source service last seen producing to topic, else
// on any topic named topic+".*" (a DLQ "content.deadletter" names the
// service of "content.book"), else "". The lag collector uses it to name the
// service behind a dead-letter topic.
func (c *Counters) TopicService(topic string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if tc := c.byName[topic]; tc != nil {
		if p := tc.service.Load(); p != nil {
			return *p
		}
	}
	best := ""
	for name, tc := range c.byName {
		if p := tc.service.Load(); p != nil && strings.HasPrefix(name, topic+".") && (best == "" || *p < best) {
			best = *p
		}
	}
	return best
}

// topic returns the cached children for topic, creating them on first use
// (topics are bounded by the sampler's include/exclude filters).
func (c *Counters) topic(topic string) *topicCounters {
	c.mu.RLock()
	tc := c.byName[topic]
	c.mu.RUnlock()
	if tc != nil {
		return tc
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc = c.byName[topic]; tc == nil {
		tc = &topicCounters{
			checked:   c.checked.WithLabelValues(topic),
			compliant: c.compliant.WithLabelValues(topic),
			size:      c.size.WithLabelValues(topic),
		}
		c.byName[topic] = tc
	}
	return tc
}

// noteService remembers src as the topic's producing service; it allocates
// only when the producer changes.
func (tc *topicCounters) noteService(src string) {
	if src == "" {
		return
	}
	if p := tc.service.Load(); p != nil && *p == src {
		return
	}
	s := strings.Clone(src)
	tc.service.Store(&s)
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
