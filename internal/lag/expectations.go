package lag

import (
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
)

// Finding is a cluster-rule finding judged outside the collector: the
// resource it is about and one sentence.
type Finding struct {
	Resource string
	Message  string
}

// Expectations is what the profile and the event catalog expect of the
// cluster. The daemon fills it; the zero value of a field turns its rule
// off.
type Expectations struct {
	// SamplerGroup is eventwatch's own sampling consumer group; when set,
	// every cycle measures its coverage (Snapshot.Coverage): partitions of
	// sampled topics no member is assigned, and how far its stored
	// positions are behind the end offsets.
	SamplerGroup string
	// OwnGroups are eventwatch's own consumer groups (the sampler's, the
	// leader election's, the trace router's): they read every topic but
	// consume nothing, so they are left out of the groups, their lag,
	// status, metrics and rules unless lag.show_own_groups is set. Their
	// coverage is still measured (SamplerGroup).
	OwnGroups []string
	// SampledTopic reports whether the sampler samples a topic (its
	// include/exclude filters); nil: every non-internal topic.
	SampledTopic         func(topic string) bool
	MinReplicationFactor int                 // topic.replication_factor; standards/002: 3
	MinRetention         time.Duration       // topic.retention (compacted and infinite topics pass); 002: 7 days
	MinBrokers           int                 // cluster.min_brokers; 002: 3
	DLQRetention         time.Duration       // dlq.retention; 002: 30 days
	ExpectedConsumers    map[string][]string // catalog.no_consumer: topic -> group ids expected to consume it
	// ProducingServices returns the services seen producing (dlq.missing).
	// When nil, services are the first dot-separated segment of every topic
	// name that is not a dead-letter or internal topic.
	ProducingServices func() []string
	// ServiceOfTopic maps a DLQ's base name (a topic, as in
	// "orders.created.dlq", or a service prefix, as in "content.deadletter")
	// to the service seen producing there; nil or "" keeps the base name.
	ServiceOfTopic func(topic string) string
	// NotIdempotent returns the consumer.not_idempotent findings (group@type),
	// judged from redelivered inputs and the chains they caused; nil: none.
	NotIdempotent func() []Finding
	// Severity overrides a rule's severity ("error", "warning", or "off").
	// Defaults: error for topic.replication_factor and cluster.min_brokers,
	// warning for the others.
	Severity map[string]string
}

// defaultSeverity is each cluster rule's catalogue severity (the rule
// catalogue, internal/event, listed in docs/rules.md).
var defaultSeverity = func() map[string]string {
	m := map[string]string{}
	for _, r := range event.ClusterRules() {
		m[r.ID] = string(r.Severity)
	}
	return m
}()

func (e *Expectations) severity(rule string) string {
	if s, ok := e.Severity[rule]; ok {
		return s
	}
	return defaultSeverity[rule]
}

func (e *Expectations) serviceOf(topic string) string {
	if e.ServiceOfTopic == nil {
		return ""
	}
	return e.ServiceOfTopic(topic)
}

// servicesFromTopics is the fallback for ProducingServices: the first
// dot-separated segment of every plain topic name.
func servicesFromTopics(topics []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range topics {
		svc, _, _ := strings.Cut(t, ".")
		if svc != "" && !seen[svc] {
			seen[svc] = true
			out = append(out, svc)
		}
	}
	return out
}
