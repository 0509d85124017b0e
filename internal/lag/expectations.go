package lag

import (
	"strings"
	"time"
)

// Cluster rule ids (see DESIGN.md); each violation carries one.
const (
	RuleReplicationFactor = "topic.replication_factor" // a topic has fewer replicas than MinReplicationFactor
	RuleRetention         = "topic.retention"          // a topic keeps data for less than MinRetention
	RuleMinBrokers        = "cluster.min_brokers"      // the cluster has fewer brokers than MinBrokers
	RuleDLQRetention      = "dlq.retention"            // a dead-letter topic keeps data for less than DLQRetention
	RuleDLQMissing        = "dlq.missing"              // a producing service has no dead-letter topic
	RuleNoConsumer        = "catalog.no_consumer"      // an expected consumer group is not consuming its topic
)

// Expectations is what the profile and the event catalog expect of the
// cluster. The daemon fills it; the zero value of a field turns its rule
// off.
type Expectations struct {
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
	// Severity overrides a rule's severity ("error", "warning", or "off").
	// Defaults: error for topic.replication_factor and cluster.min_brokers,
	// warning for the others.
	Severity map[string]string
}

var defaultSeverity = map[string]string{
	RuleReplicationFactor: "error",
	RuleMinBrokers:        "error",
	RuleRetention:         "warning",
	RuleDLQRetention:      "warning",
	RuleDLQMissing:        "warning",
	RuleNoConsumer:        "warning",
}

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
