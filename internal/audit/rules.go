package audit

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Scope says where a rule is evaluated.
type Scope string

// Rule scopes.
const (
	ScopeRecord  Scope = "record"  // evaluated by the Engine on every audited record
	ScopeCluster Scope = "cluster" // evaluated from the admin API by the lag collector
)

// RuleInfo describes one rule of the catalogue.
type RuleInfo struct {
	ID       string   `json:"id"`       // stable rule id, e.g. "envelope.missing_field"
	Severity Severity `json:"severity"` // default severity; a profile may change it or turn the rule off
	Scope    Scope    `json:"scope"`    // record or cluster
	Summary  string   `json:"summary"`  // one line: what the rule flags
	Standard string   `json:"standard"` // the clauses of the standards the rule enforces
}

// recordRule is a rule evaluated on one record: its catalogue entry plus
// the check that reports violations on the evaluation context.
type recordRule struct {
	info     RuleInfo
	check    func(c *evalCtx)
	on       uint8     // which records the rule sees (onEnvelope when zero)
	settings []Setting // policy settings the rule declares (settings.go); read with c.setting
}

// Record classes a rule may apply to.
const (
	onEnvelope uint8 = 1 << iota // a valid JSON object on an ordinary topic
	onInvalid                    // a value that is not a valid JSON object
	onDLQ                        // a valid JSON object on a dead-letter topic
	onAll      = onEnvelope | onInvalid | onDLQ
)

// Rule indexes: the position of each record rule in recordRules. Violations
// are reported by index so the hot path never looks a rule up by name.
const (
	rInvalidJSON = iota
	rMissingField
	rWrongType
	rInvalidUUID
	rInvalidTimestamp
	rUnknownField
	rEventType
	rActionTense
	rVersionMismatch
	rTopic
	rTooLarge
	rBlobField
	rMissingCorrelation
	rMissingContext
	rKeyMissing
	rUnregistered
	rSchema
	rProducerMismatch
	rDrift
	rDLQContext
	rDuplicate
	numRecordRules
)

// recordRules is the registry of record rules, indexed by the constants
// above. Each entry lives in its own rule_*.go file with its test.
var recordRules = [numRecordRules]*recordRule{
	rInvalidJSON:        &ruleInvalidJSON,
	rMissingField:       &ruleMissingField,
	rWrongType:          &ruleWrongType,
	rInvalidUUID:        &ruleInvalidUUID,
	rInvalidTimestamp:   &ruleInvalidTimestamp,
	rUnknownField:       &ruleUnknownField,
	rEventType:          &ruleEventType,
	rActionTense:        &ruleActionTense,
	rVersionMismatch:    &ruleVersionMismatch,
	rTopic:              &ruleTopic,
	rTooLarge:           &ruleTooLarge,
	rBlobField:          &ruleBlobField,
	rMissingCorrelation: &ruleMissingCorrelation,
	rMissingContext:     &ruleMissingContext,
	rKeyMissing:         &ruleKeyMissing,
	rUnregistered:       &ruleUnregistered,
	rSchema:             &ruleSchema,
	rProducerMismatch:   &ruleProducerMismatch,
	rDrift:              &ruleDrift,
	rDLQContext:         &ruleDLQContext,
	rDuplicate:          &ruleDuplicate,
}

// Cluster rule ids: the one place they are spelled. The lag collector
// (internal/lag) reports violations under these ids and the daemon reads
// each one's severity from the profile; ClusterRules lists them.
const (
	RuleTopicReplicationFactor = "topic.replication_factor" // a topic has fewer replicas than the profile's minimum
	RuleTopicRetention         = "topic.retention"          // a topic keeps data for less than the profile's minimum
	RuleClusterMinBrokers      = "cluster.min_brokers"      // the cluster has fewer brokers than the profile's minimum
	RuleDLQRetention           = "dlq.retention"            // a dead-letter topic keeps data for less than the DLQ retention
	RuleDLQMissing             = "dlq.missing"              // a producing service has no dead-letter topic
	RuleCatalogNoConsumer      = "catalog.no_consumer"      // an expected consumer group is not consuming its topic
	RuleConsumerNotIdempotent  = "consumer.not_idempotent"  // a redelivered input produced duplicate downstream events
)

// clusterRules are evaluated outside the engine (the lag collector reads
// topic configs, brokers and groups through the admin API) and listed here
// so the catalogue, profiles and waivers know them.
var clusterRules = []RuleInfo{
	{ID: RuleTopicReplicationFactor, Severity: SeverityError, Scope: ScopeCluster,
		Summary:  "a topic's replication factor is below the profile's minimum",
		Standard: "AuthorWorks: Kafka Configuration, Replication Factor 3 for production topics"},
	{ID: RuleTopicRetention, Severity: SeverityWarning, Scope: ScopeCluster,
		Summary:  "a topic's retention.ms is below the profile's minimum retention",
		Standard: "AuthorWorks: Kafka Configuration, Retention configurable per topic, default 7 days"},
	{ID: RuleClusterMinBrokers, Severity: SeverityError, Scope: ScopeCluster,
		Summary:  "the cluster has fewer brokers than the profile's minimum",
		Standard: "AuthorWorks: Kafka Configuration, Minimum of 3 brokers for fault tolerance"},
	{ID: RuleDLQRetention, Severity: SeverityWarning, Scope: ScopeCluster,
		Summary:  "a dead-letter topic keeps records for less than the profile's DLQ retention",
		Standard: "AuthorWorks: Dead Letter Handling 4, retention period of 30 days for dead letter topics"},
	{ID: RuleDLQMissing, Severity: SeverityWarning, Scope: ScopeCluster,
		Summary:  "a producing service has no dead-letter topic",
		Standard: "HuleEdu 030 §5.2 (DLQ strategy for persistent failures); AuthorWorks: Dead Letter Handling 1, each service maintains service.deadletter"},
	{ID: RuleCatalogNoConsumer, Severity: SeverityWarning, Scope: ScopeCluster,
		Summary:  "an expected consumer group of a catalogued event type is not consuming its topic",
		Standard: "AuthorWorks: Event Types Registry 4, expected consumers"},
	{ID: RuleConsumerNotIdempotent, Severity: SeverityError, Scope: ScopeCluster,
		Summary:  "a consumer group's service emitted duplicate downstream events for an input delivered twice (a producer duplicate or a rewind)",
		Standard: "HuleEdu 030 §5.1 (consumers MUST be idempotent); AuthorWorks: Consumer Responsibilities 2 (handle duplicate events idempotently)"},
}

// Rules returns the rule catalogue: every record rule, then every cluster
// rule, then every WebSocket rule, each group sorted by id. The slice is a
// fresh copy.
func Rules() []RuleInfo {
	out := make([]RuleInfo, 0, numRecordRules+len(clusterRules)+len(websocketRules))
	for _, r := range recordRules {
		out = append(out, r.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	out = append(out, ClusterRules()...)
	return append(out, WebSocketRules()...)
}

// ClusterRules returns the catalogue entries of the cluster rules, sorted by
// id (a fresh copy).
func ClusterRules() []RuleInfo {
	cl := append([]RuleInfo(nil), clusterRules...)
	sort.Slice(cl, func(i, j int) bool { return cl[i].ID < cl[j].ID })
	return cl
}

// LookupRule returns the catalogue entry of a rule id.
func LookupRule(id string) (RuleInfo, bool) {
	for _, r := range Rules() {
		if r.ID == id {
			return r, true
		}
	}
	return RuleInfo{}, false
}

// recordRuleIndex maps a record rule id to its index, or -1.
func recordRuleIndex(id string) int {
	for i, r := range recordRules {
		if r.info.ID == id {
			return i
		}
	}
	return -1
}

// WriteRulesMarkdown writes the rule catalogue as a Markdown document
// (docs/rules.md is generated with it), including the default severity of
// each rule in the built-in profiles.
func WriteRulesMarkdown(w io.Writer) error {
	profiles := make([]*Profile, 0, len(BuiltinProfiles()))
	for _, name := range BuiltinProfiles() {
		p, err := LoadProfile(name)
		if err != nil {
			return fmt.Errorf("load profile %s: %w", name, err)
		}
		profiles = append(profiles, p)
	}
	var b strings.Builder
	b.WriteString("# Rule catalogue\n\n")
	b.WriteString("Generated by `eventwatch generate` from `internal/audit` (do not edit by hand).\n")
	b.WriteString("Every violation eventwatch reports carries one of these stable ids. Record rules are\n")
	b.WriteString("evaluated on each audited record; cluster rules from the admin API; websocket rules by the\n")
	b.WriteString("WebSocket prober on each probed endpoint. A profile or policy\n")
	b.WriteString("chooses each rule's severity (`error`, `warning`) or turns it `off`.\n\n")
	b.WriteString("| rule id | scope | default | ")
	for _, p := range profiles {
		fmt.Fprintf(&b, "%s | ", p.Name)
	}
	b.WriteString("summary | standard |\n|---|---|---|")
	for range profiles {
		b.WriteString("---|")
	}
	b.WriteString("---|---|\n")
	for _, r := range Rules() {
		fmt.Fprintf(&b, "| <a id=\"%s\"></a>`%s` | %s | %s | ", RuleAnchor(r.ID), r.ID, r.Scope, r.Severity)
		for _, p := range profiles {
			b.WriteString(profileSeverityCell(p, r.ID))
			b.WriteString(" | ")
		}
		fmt.Fprintf(&b, "%s | %s |\n", mdEscape(r.Summary), mdEscape(r.Standard))
	}
	writeSettingsMarkdown(&b)
	writeDLQNotes(&b, profiles)
	writeWebSocketNotes(&b, profiles)
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write rules markdown: %w", err)
	}
	return nil
}

// RuleAnchor is the HTML anchor of rule id in docs/rules.md, for links such
// as docs/rules.md#envelope-missing_field.
func RuleAnchor(id string) string { return strings.ReplaceAll(id, ".", "-") }

// writeDLQNotes documents, per profile, what dlq.missing_error_context
// accepts as error context.
func writeDLQNotes(b *strings.Builder, profiles []*Profile) {
	b.WriteString("\n## Dead-letter records per profile\n\n")
	b.WriteString("`dlq.missing_error_context` looks at records on dead-letter topics (`cluster.dlq_topic_patterns`).\n")
	b.WriteString("A profile that requires a wrapper wants the original event inside a wrapper field with an error\n")
	b.WriteString("field beside it (or error headers). A profile that does not also accepts the original value as is\n")
	b.WriteString("when a header carries the error context, as Spring Kafka's `DeadLetterPublishingRecoverer`\n")
	b.WriteString("(`kafka_dlt-exception-fqcn`, `kafka_dlt-exception-message`, ...) and Kafka Connect's dead-letter\n")
	b.WriteString("queue (`__connect.errors.exception.class.name`, ...) write it.\n\n")
	b.WriteString("| profile | wrapper required | original fields | error fields | error header prefixes |\n|---|---|---|---|---|\n")
	for _, p := range profiles {
		d := &p.dlq
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", p.Name, yesNo(d.requireWrapper()), codeList(d.OriginalFields),
			codeList(d.ErrorFields), codeList(d.ErrorHeaderPrefixes))
	}
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func codeList(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return "`" + strings.Join(xs, "`, `") + "`"
}

func profileSeverityCell(p *Profile, rule string) string {
	sev, ok := p.RuleSeverity(rule, "")
	if !ok {
		return "off"
	}
	return string(sev)
}

func mdEscape(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
