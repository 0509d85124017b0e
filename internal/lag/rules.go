package lag

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// evalRules checks the cluster against the expectations and returns every
// active violation, sorted. Rules whose inputs could not be fetched this
// cycle are skipped rather than reported as violations.
func (c *Collector) evalRules(cy *cycle, dlqs []DLQ, groups []GroupLag) []Violation {
	var vs []Violation
	add := func(rule, resource, format string, a ...any) {
		sev := c.exp.severity(rule)
		if sev == "off" || sev == "" {
			return
		}
		vs = append(vs, Violation{Rule: rule, Resource: resource, Severity: sev, Message: fmt.Sprintf(format, a...)})
	}
	if cy.metaOK {
		c.brokerRule(cy, add)
	}
	c.topicRules(cy, add)
	c.dlqRules(dlqs, add)
	c.consumerRule(groups, add)
	if c.exp.NotIdempotent != nil {
		for _, f := range c.exp.NotIdempotent() {
			add(RuleNotIdempotent, f.Resource, "%s", f.Message)
		}
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].Rule != vs[j].Rule {
			return vs[i].Rule < vs[j].Rule
		}
		return vs[i].Resource < vs[j].Resource
	})
	return vs
}

type addFunc func(rule, resource, format string, a ...any)

func (c *Collector) brokerRule(cy *cycle, add addFunc) {
	if n := len(cy.meta.Brokers); c.exp.MinBrokers > 0 && n < c.exp.MinBrokers {
		add(RuleMinBrokers, "cluster", "cluster has %d brokers, the profile requires at least %d", n, c.exp.MinBrokers)
	}
}

// topicRules checks replication factor and retention of every watched,
// non-DLQ topic.
func (c *Collector) topicRules(cy *cycle, add addFunc) {
	st := c.state
	minRet := c.exp.MinRetention.Seconds()
	for _, topic := range c.plainTopics() {
		ts := st.topics[topic]
		if _, ok := cy.meta.Topics[topic]; ok && c.exp.MinReplicationFactor > 0 && ts.replicas < c.exp.MinReplicationFactor {
			add(RuleReplicationFactor, topic, "topic %s has replication factor %d, the profile requires %d",
				topic, ts.replicas, c.exp.MinReplicationFactor)
		}
		if _, ok := cy.configs[topic]; ok && minRet > 0 && !ts.compacted && ts.retention >= 0 && ts.retention < minRet {
			add(RuleRetention, topic, "topic %s keeps data for %s, the profile requires at least %s",
				topic, seconds(ts.retention), seconds(minRet))
		}
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

// dlqRules checks DLQ retention and that every producing service has a DLQ.
func (c *Collector) dlqRules(dlqs []DLQ, add addFunc) {
	want := c.exp.DLQRetention.Seconds()
	for _, d := range dlqs {
		if want > 0 && d.RetentionSeconds > 0 && d.RetentionSeconds < want {
			add(RuleDLQRetention, d.Topic, "dead-letter topic %s keeps data for %s, the profile requires %s",
				d.Topic, seconds(d.RetentionSeconds), seconds(want))
		}
	}
	var services []string
	if c.exp.ProducingServices != nil {
		services = c.exp.ProducingServices()
	} else {
		services = servicesFromTopics(c.plainTopics())
	}
	for _, svc := range services {
		if !c.hasDLQ(dlqs, svc) {
			add(RuleDLQMissing, svc, "service %s produces events but has no dead-letter topic (%s)",
				svc, strings.Join(c.cfg.DLQPatterns, ", "))
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
func (c *Collector) consumerRule(groups []GroupLag, add addFunc) {
	byName := make(map[string]*GroupLag, len(groups))
	for i := range groups {
		byName[groups[i].Group] = &groups[i]
	}
	topics := make([]string, 0, len(c.exp.ExpectedConsumers))
	for t := range c.exp.ExpectedConsumers {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, topic := range topics {
		for _, g := range c.exp.ExpectedConsumers[topic] {
			if !consumes(byName[g], topic) {
				add(RuleNoConsumer, g+"@"+topic, "the catalog expects group %s to consume %s, but it has no committed offsets on it", g, topic)
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
