package lag

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
)

// clusterRule wires one cluster rule of the catalogue
// (internal/event/cluster_rules.go: its id, severity, summary and
// standard) to its evaluation here. clusterRules is the registry: a new
// cluster rule is its catalogue entry plus one line below and its
// function; TestRulesAreTheCatalogueClusterRules fails while the two
// lists differ, TestEveryRuleFires while a rule never reports.
type clusterRule struct {
	id   string
	eval func(c *Collector, in *ruleInputs, add addFunc)
}

// clusterRules is the registry of the cluster rules the collector
// evaluates, in evaluation order.
var clusterRules = []clusterRule{
	{event.RuleClusterMinBrokers, (*Collector).brokerRule},
	{event.RuleTopicReplicationFactor, (*Collector).replicationRule},
	{event.RuleTopicRetention, (*Collector).retentionRule},
	{event.RuleDLQRetention, (*Collector).dlqRetentionRule},
	{event.RuleDLQMissing, (*Collector).dlqMissingRule},
	{event.RuleCatalogNoConsumer, (*Collector).consumerRule},
	{event.RuleConsumerNotIdempotent, (*Collector).idempotencyRule},
}

// Rules returns the ids of the cluster rules the collector evaluates.
func Rules() []string {
	out := make([]string, len(clusterRules))
	for i, r := range clusterRules {
		out[i] = r.id
	}
	return out
}

// ruleInputs is what one cycle gives the cluster rules.
type ruleInputs struct {
	cy     *cycle
	dlqs   []DLQ
	groups []GroupLag
}

// addFunc reports one violation of the rule it was made for.
type addFunc func(resource, format string, a ...any)

// evalRules checks the cluster against the expectations and returns every
// active violation, sorted. Rules whose inputs could not be fetched this
// cycle are skipped rather than reported as violations.
func (c *Collector) evalRules(cy *cycle, dlqs []DLQ, groups []GroupLag) []Violation {
	var vs []Violation
	in := &ruleInputs{cy: cy, dlqs: dlqs, groups: groups}
	for _, r := range clusterRules {
		sev := c.exp.severity(r.id)
		if sev == "off" || sev == "" {
			continue
		}
		r.eval(c, in, func(resource, format string, a ...any) {
			vs = append(vs, Violation{Rule: r.id, Resource: resource, Severity: sev, Message: fmt.Sprintf(format, a...)})
		})
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].Rule != vs[j].Rule {
			return vs[i].Rule < vs[j].Rule
		}
		return vs[i].Resource < vs[j].Resource
	})
	return vs
}

func (c *Collector) brokerRule(in *ruleInputs, add addFunc) {
	if n := len(in.cy.meta.Brokers); in.cy.metaOK && c.exp.MinBrokers > 0 && n < c.exp.MinBrokers {
		add("cluster", "cluster has %d brokers, the profile requires at least %d", n, c.exp.MinBrokers)
	}
}

// replicationRule checks the replication factor of every watched, non-DLQ
// topic.
func (c *Collector) replicationRule(in *ruleInputs, add addFunc) {
	for _, topic := range c.plainTopics() {
		ts := c.state.topics[topic]
		if _, ok := in.cy.meta.Topics[topic]; ok && c.exp.MinReplicationFactor > 0 && ts.replicas < c.exp.MinReplicationFactor {
			add(topic, "topic %s has replication factor %d, the profile requires %d", topic, ts.replicas, c.exp.MinReplicationFactor)
		}
	}
}

// retentionRule checks the retention of every watched, non-DLQ topic
// (compacted and infinite topics pass).
func (c *Collector) retentionRule(in *ruleInputs, add addFunc) {
	minRet := c.exp.MinRetention.Seconds()
	for _, topic := range c.plainTopics() {
		ts := c.state.topics[topic]
		if _, ok := in.cy.configs[topic]; ok && minRet > 0 && !ts.compacted && ts.retention >= 0 && ts.retention < minRet {
			add(topic, "topic %s keeps data for %s, the profile requires at least %s", topic, seconds(ts.retention), seconds(minRet))
		}
	}
}

// idempotencyRule reports the consumers judged not idempotent outside the
// collector (Expectations.NotIdempotent).
func (c *Collector) idempotencyRule(_ *ruleInputs, add addFunc) {
	if c.exp.NotIdempotent == nil {
		return
	}
	for _, f := range c.exp.NotIdempotent() {
		add(f.Resource, "%s", f.Message)
	}
}

// plainTopics returns the watched topics that are not dead-letter topics.
func (c *Collector) plainTopics() []string {
	var out []string
	for topic, ts := range c.state.topics {
		if ts.lastCycle != c.state.cycle || !c.cfg.wantTopic(topic) {
			continue
		}
		if _, dlq := dlqBase(c.cfg.DLQPatterns, topic); !dlq {
			out = append(out, topic)
		}
	}
	sort.Strings(out)
	return out
}

// dlqRetentionRule checks the retention of every dead-letter topic.
func (c *Collector) dlqRetentionRule(in *ruleInputs, add addFunc) {
	want := c.exp.DLQRetention.Seconds()
	for _, d := range in.dlqs {
		if want > 0 && d.RetentionSeconds > 0 && d.RetentionSeconds < want {
			add(d.Topic, "dead-letter topic %s keeps data for %s, the profile requires %s",
				d.Topic, seconds(d.RetentionSeconds), seconds(want))
		}
	}
}

// dlqMissingRule checks that every producing service has a DLQ.
func (c *Collector) dlqMissingRule(in *ruleInputs, add addFunc) {
	var services []string
	if c.exp.ProducingServices != nil {
		services = c.exp.ProducingServices()
	} else {
		services = servicesFromTopics(c.plainTopics())
	}
	for _, svc := range services {
		if !c.hasDLQ(in.dlqs, svc) {
			add(svc, "service %s produces events but has no dead-letter topic (%s)", svc, strings.Join(c.cfg.DLQPatterns, ", "))
		}
	}
}

// hasDLQ reports whether a DLQ belongs to svc: its source service is svc,
// or svc is one dot-separated segment of its base name.
func (c *Collector) hasDLQ(dlqs []DLQ, svc string) bool {
	for _, d := range dlqs {
		if d.SourceService == svc {
			return true
		}
		base, _ := dlqBase(c.cfg.DLQPatterns, d.Topic)
		for _, seg := range strings.Split(base, ".") {
			if seg == svc {
				return true
			}
		}
	}
	return false
}

// consumerRule reports expected consumer groups that have neither committed
// offsets on nor an assignment of their topic.
func (c *Collector) consumerRule(in *ruleInputs, add addFunc) {
	byName := make(map[string]*GroupLag, len(in.groups))
	for i := range in.groups {
		byName[in.groups[i].Group] = &in.groups[i]
	}
	topics := make([]string, 0, len(c.exp.ExpectedConsumers))
	for t := range c.exp.ExpectedConsumers {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, topic := range topics {
		for _, g := range c.exp.ExpectedConsumers[topic] {
			if !consumes(byName[g], topic) {
				add(g+"@"+topic, "the catalog expects group %s to consume %s, but it has no committed offsets on it", g, topic)
			}
		}
	}
}

func consumes(g *GroupLag, topic string) bool {
	if g == nil {
		return false
	}
	for _, t := range g.Topics {
		if t.Topic == topic {
			return true
		}
	}
	return false
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).String()
}
