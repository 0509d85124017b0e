package event

import (
	"fmt"
	"sort"
	"strconv"
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

// Setting is a policy setting a record rule declares in its catalogue
// entry: the registry every rule setting goes through. internal/policy
// decodes and checks a policy's values against it, docs/rules.md lists it
// ("Rule settings"), and the rule reads the value the profile resolved.
//
// A setting of a newer rule has only a Key and is an integer a policy sets
// as
//
//	rule_settings:
//	  <rule id>:
//	    <key>: <integer>
//
// and a topic override (topics[i].rule_settings) may set for the topics
// it matches (internal/audit: evalCtx.setting). The older settings have a
// fixed place under rules: (Path, e.g. "rules.size.max_bytes") and a Kind.
type Setting struct {
	Key  string      `json:"key"`            // YAML key: under rule_settings.<rule id>, or the last segment of Path
	Path string      `json:"path,omitempty"` // the whole YAML path of a setting with a fixed place, e.g. "rules.size.max_bytes"
	Kind SettingKind `json:"kind"`           // the value's type ("" is SettingInt)
	// Default is the value when no policy sets it, as YAML ("" = none:
	// unchecked or, with Required, an error).
	Default  string `json:"default,omitempty"`
	Min      int    `json:"min"`                // SettingInt, SettingIntMap: the smallest value accepted
	Required bool   `json:"required,omitempty"` // a policy must set it unless the rule is off
	Help     string `json:"help"`               // one line for docs/rules.md
}

// SettingKind is the type of a setting's value.
type SettingKind string

// Setting kinds.
const (
	SettingInt      SettingKind = "integer"             // >= Min
	SettingIndex    SettingKind = "index"               // any integer; negative counts from the end
	SettingIntMap   SettingKind = "map of integers"     // name -> integer >= Min
	SettingDuration SettingKind = "duration"            // >= 0, e.g. 1h
	SettingRegexp   SettingKind = "regexp"              // RE2, matched against the whole value
	SettingGroupRE  SettingKind = "regexp with 1 group" // a regexp with exactly one capturing group
	SettingGlobs    SettingKind = "list of globs"       // path.Match patterns
	SettingStrings  SettingKind = "list of strings"     // names
	SettingBool     SettingKind = "boolean"             // true or false
)

// YAMLPath is where a policy sets s for rule: Path, or
// rule_settings.<rule>.<Key>.
func (s Setting) YAMLPath(rule string) string {
	if s.Path != "" {
		return s.Path
	}
	return "rule_settings." + rule + "." + s.Key
}

// IntDefault is Default as an integer (0 when unset or not an integer).
func (s Setting) IntDefault() int {
	n, _ := strconv.Atoi(s.Default)
	return n
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
