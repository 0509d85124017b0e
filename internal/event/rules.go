package event

import (
	"fmt"
	"sort"
	"strings"
)

// Scope says where a rule is evaluated.
type Scope string

// Rule scopes.
const (
	ScopeRecord  Scope = "record"  // evaluated by the audit engine on every audited record
	ScopeCluster Scope = "cluster" // evaluated from the admin API by the lag collector
)

// RuleInfo describes one rule of the catalogue.
type RuleInfo struct {
	ID       string   `json:"id"`       // stable rule id, e.g. "envelope.missing_field"
	Severity Severity `json:"severity"` // default severity; a profile may change it or turn the rule off
	Scope    Scope    `json:"scope"`    // record or cluster
	Summary  string   `json:"summary"`  // one line: what the rule flags
	Standard string   `json:"standard"` // the clauses of the standards the rule enforces
	// Settings are the policy settings the rule declares (record rules
	// only): a policy sets them under rule_settings.<id>.<key>.
	Settings []Setting `json:"settings,omitempty"`
}

// Setting is an integer policy setting a record rule declares in its
// catalogue entry. A policy sets it as
//
//	rule_settings:
//	  <rule id>:
//	    <key>: <integer>
//
// and a topic override (topics[i].rule_settings) may set it for the topics
// it matches; internal/policy checks the values against Min, and the rule
// reads the value resolved for the record's topic (internal/audit
// evalCtx.setting).
type Setting struct {
	Key     string `json:"key"`     // YAML key under rule_settings.<rule id>
	Default int    `json:"default"` // value when no policy sets it
	Min     int    `json:"min"`     // the smallest value accepted
	Help    string `json:"help"`    // one line for docs/rules.md
}

// Rules returns the rule catalogue: every record rule, then every cluster
// rule, then every WebSocket rule, each group sorted by id. The slice is a fresh copy.
func Rules() []RuleInfo {
	out := sortedCopy(recordRules)
	out = append(out, ClusterRules()...)
	return append(out, WebSocketRules()...)
}

// RecordRules returns the catalogue entries of the record rules, sorted by
// id (a fresh copy).
func RecordRules() []RuleInfo { return sortedCopy(recordRules) }

// ClusterRules returns the catalogue entries of the cluster rules, sorted by
// id (a fresh copy).
func ClusterRules() []RuleInfo { return sortedCopy(clusterRules) }

// WebSocketRules returns the catalogue entries of the WebSocket rules,
// sorted by id (a fresh copy).
func WebSocketRules() []RuleInfo { return sortedCopy(websocketRules) }

func sortedCopy(rs []RuleInfo) []RuleInfo {
	out := append([]RuleInfo(nil), rs...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// LookupRule returns the catalogue entry of a rule id.
func LookupRule(id string) (RuleInfo, bool) {
	for _, set := range [][]RuleInfo{recordRules, clusterRules, websocketRules} {
		for _, r := range set {
			if r.ID == id {
				return r, true
			}
		}
	}
	return RuleInfo{}, false
}

// OverrideRuleForTest replaces the catalogue entry of the record rule
// info.ID (e.g. to give it settings) until the returned restore function
// runs. It is for tests that do not run in parallel with catalogue readers;
// an id that is no record rule is an error.
func OverrideRuleForTest(info RuleInfo) (restore func(), err error) {
	for i, r := range recordRules {
		if r.ID == info.ID {
			recordRules[i] = info
			return func() { recordRules[i] = r }, nil
		}
	}
	return func() {}, fmt.Errorf("event: %s is not a record rule", info.ID)
}

// Rule returns the catalogue entry of a rule id, or the zero RuleInfo when
// the id is not in the catalogue (the audit package's registry test names
// such a rule).
func Rule(id string) RuleInfo {
	r, _ := LookupRule(id)
	return r
}

// RuleAnchor is the HTML anchor of rule id in docs/rules.md, for links such
// as docs/rules.md#envelope-missing_field.
func RuleAnchor(id string) string { return strings.ReplaceAll(id, ".", "-") }
