package policy

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"path"
	"regexp"
	"strings"
	"time"
)

// ClusterPolicy is the part of a profile checked from the admin API by the
// lag collector (cluster-scope rules).
type ClusterPolicy struct {
	MinReplicationFactor int           `yaml:"min_replication_factor"` // topic.replication_factor: minimum replicas per partition (0 = unchecked)
	DefaultRetention     time.Duration `yaml:"default_retention"`      // the standard's default retention, for reports
	MinRetention         time.Duration `yaml:"min_retention"`          // topic.retention: minimum retention.ms (0 = unchecked)
	MinBrokers           int           `yaml:"min_brokers"`            // cluster.min_brokers: minimum live brokers (0 = unchecked)
	DLQRetention         time.Duration `yaml:"dlq_retention"`          // dlq.retention: minimum retention of dead-letter topics (0 = unchecked)
	DLQTopicPatterns     []string      `yaml:"dlq_topic_patterns"`     // globs naming dead-letter topics, e.g. "*.deadletter"
}

// Waiver exempts the topics matching a glob from one rule until a date.
type Waiver struct {
	Topic   string    `yaml:"topic" json:"topic"`   // topic glob, e.g. "legacy.*"
	Rule    string    `yaml:"rule" json:"rule"`     // rule id the waiver exempts
	Reason  string    `yaml:"reason" json:"reason"` // why; required
	Expires time.Time `yaml:"-" json:"expires"`     // the waiver stops applying at this instant (the day after the written date, 00:00 UTC)
	Until   string    `yaml:"expires" json:"-"`     // the last day the waiver applies, YYYY-MM-DD, as written
}

// Active reports whether the waiver still applies at now.
func (w Waiver) Active(now time.Time) bool { return now.Before(w.Expires) }

// Covers reports whether the waiver applies to rule on topic at now.
func (w Waiver) Covers(rule, topic string, now time.Time) bool {
	if w.Rule != rule || !w.Active(now) {
		return false
	}
	ok, _ := path.Match(w.Topic, topic)
	return ok
}

// Profile is a compiled standard: which envelope fields to read and how to
// check them, which rules run at which severity (per topic), waivers, and
// the cluster policy. Built-in profiles come from LoadProfile, custom ones
// from LoadPolicy. A Profile is immutable and safe for concurrent use.
type Profile struct {
	Name        string          // profile name, e.g. "huleedu"
	Description string          // one line about the profile
	Standard    string          // the standard the profile enforces
	Cluster     ClusterPolicy   // cluster-scope thresholds
	Waivers     []Waiver        // (topic, rule) exemptions with expiry
	WebSocket   WebSocketPolicy // what the WebSocket prober checks (endpoint pattern, heartbeat)

	fields     [NumRoles]Field
	strict     bool
	allow      []string
	eventType  *regexp.Regexp
	actionSeg  int
	hasAction  bool
	typeVer    *regexp.Regexp
	topic      *regexp.Regexp
	maxBytes   int
	perType    map[string]int
	blob       Blob
	ts         Timestamp
	dlq        DLQ
	severities map[string]event.Severity // rule id -> severity; "" means off
	topics     []topicOverride
	// ruleSettings are rule_settings as written (rule id -> key -> value).
	ruleSettings ruleSettings
	// values are the settings under rules:, checked, by path (rules.go).
	values map[string]any
}

// IsDLQTopic reports whether topic is a dead-letter topic under the
// profile's Cluster.DLQTopicPatterns.
func (p *Profile) IsDLQTopic(topic string) bool {
	for _, g := range p.Cluster.DLQTopicPatterns {
		if ok, _ := path.Match(g, topic); ok {
			return true
		}
	}
	return false
}

// DLQBase returns the name a dead-letter topic carries before (or after)
// the wildcard of the first DLQ pattern it matches: "content" for
// content.deadletter under "*.deadletter". It is "" when topic is not a
// dead-letter topic or the pattern has no single leading or trailing "*".
func (p *Profile) DLQBase(topic string) string {
	for _, g := range p.Cluster.DLQTopicPatterns {
		if ok, _ := path.Match(g, topic); !ok {
			continue
		}
		if suf, ok := strings.CutPrefix(g, "*"); ok && !strings.ContainsAny(suf, "*?[") {
			return strings.TrimSuffix(topic, suf)
		}
		if pre, ok := strings.CutSuffix(g, "*"); ok && !strings.ContainsAny(pre, "*?[") {
			return strings.TrimPrefix(topic, pre)
		}
	}
	return ""
}

// RuleSeverity returns the severity of rule on topic after per-topic
// overrides (waivers not applied), and false when the rule is off. Pass an
// empty topic for the profile-wide setting.
func (p *Profile) RuleSeverity(rule, topic string) (event.Severity, bool) {
	sev, ok := p.severities[rule]
	if !ok {
		return "", false
	}
	if topic != "" {
		for _, t := range p.topics {
			if m, _ := path.Match(t.Match, topic); !m {
				continue
			}
			if s, set := t.Severities[rule]; set {
				sev = event.Severity(s)
			}
		}
	}
	if sev == "" || sev == "off" {
		return "", false
	}
	return sev, true
}

// Applies returns the severity rule has on topic at now, and false when the
// rule is off there or an active waiver exempts the topic. Cluster-scope
// evaluators call it before reporting.
func (p *Profile) Applies(rule, topic string, now time.Time) (event.Severity, bool) {
	sev, ok := p.RuleSeverity(rule, topic)
	if !ok || p.waived(rule, topic, now) {
		return "", false
	}
	return sev, true
}

func (p *Profile) waived(rule, topic string, now time.Time) bool {
	for _, w := range p.Waivers {
		if w.Covers(rule, topic, now) {
			return true
		}
	}
	return false
}

// MaxBytesFor returns the size limit for an event type on a topic whose
// override sets topicMax (TopicMaxBytes): a per-type limit wins over a
// per-topic limit, which wins over the default (rules.size).
func (p *Profile) MaxBytesFor(eventType string, topicMax int) int {
	if n, ok := p.perType[eventType]; ok {
		return n
	}
	if topicMax > 0 {
		return topicMax
	}
	return p.maxBytes
}

// DLQErrorHeaderPrefixes returns the header key prefixes the profile takes
// as a dead letter's error context (rules.dlq.error_header_prefixes).
func (p *Profile) DLQErrorHeaderPrefixes() []string {
	return append([]string(nil), p.dlq.ErrorHeaderPrefixes...)
}

// TopicMaxBytes returns the size limit the last topics[] override matching
// topic sets, or 0 when none sets one.
func (p *Profile) TopicMaxBytes(topic string) int {
	n := 0
	for _, t := range p.topics {
		if t.MaxBytes > 0 && matchGlob(t.Match, topic) {
			n = t.MaxBytes
		}
	}
	return n
}

// EventTypePattern is rules.naming.event_type compiled (nil: unchecked).
func (p *Profile) EventTypePattern() *regexp.Regexp { return p.eventType }

// TopicPattern is rules.naming.topic compiled (nil: unchecked).
func (p *Profile) TopicPattern() *regexp.Regexp { return p.topic }

// TypeVersionPattern is rules.naming.type_version compiled, with one group
// capturing the version from the type name (nil: unchecked).
func (p *Profile) TypeVersionPattern() *regexp.Regexp { return p.typeVer }

// ActionSegment returns rules.naming.action_segment, the dot-separated
// segment of the event type holding the action (negative counts from the
// end), and false when the policy sets none.
func (p *Profile) ActionSegment() (int, bool) { return p.actionSeg, p.hasAction }

// Blob returns rules.blob.
func (p *Profile) Blob() Blob { return p.blob }

// Timestamp returns rules.timestamp.
func (p *Profile) Timestamp() Timestamp { return p.ts }

// DLQ returns rules.dlq with its defaults filled in.
func (p *Profile) DLQ() DLQ { return p.dlq }

// matchGlob is path.Match without the error (the globs were checked when
// the policy was compiled).
func matchGlob(glob, name string) bool {
	ok, _ := path.Match(glob, name)
	return ok
}
