package audit

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Setting is a policy setting a rule declares in its own rule_*.go file:
// the policy decoder reads it through the registry, so adding one touches
// neither policy.go nor engine.go. A policy sets it as
//
//	rule_settings:
//	  <rule id>:
//	    <key>: <integer>
//
// and a topic override (topics[i].rule_settings) may set it for the topics
// it matches. The rule reads the value resolved for the record's topic with
// c.setting(ruleIndex, settingIndex).
type Setting struct {
	Key     string // YAML key under rule_settings.<rule id>
	Default int    // value when no policy sets it
	Min     int    // the smallest value accepted
	Help    string // one line for docs/rules.md
}

// ruleSettings maps rule id -> key -> value, as written in a policy.
type ruleSettings map[string]map[string]int

// compileRuleSettings checks rule_settings and every topic's, against the
// settings the rules declare, and keeps the profile-wide values.
func compileRuleSettings(doc *policyDoc, p *Profile) error {
	if err := checkRuleSettings("rule_settings", doc.RuleSettings); err != nil {
		return err
	}
	for i, t := range doc.Topics {
		if err := checkRuleSettings(fmt.Sprintf("topics[%d].rule_settings", i), t.RuleSettings); err != nil {
			return err
		}
	}
	p.ruleSettings = doc.RuleSettings
	return nil
}

func checkRuleSettings(base string, rs ruleSettings) error {
	for _, id := range sortedKeys(rs) {
		i := recordRuleIndex(id)
		if i < 0 {
			return ferr(base+"."+id, "unknown record rule id")
		}
		declared := recordRules[i].settings
		for _, key := range sortedKeys(rs[id]) {
			field := base + "." + id + "." + key
			k := slices.IndexFunc(declared, func(s Setting) bool { return s.Key == key })
			if k < 0 {
				return ferr(field, "unknown setting (%s has: %s)", id, settingKeys(declared))
			}
			if v := rs[id][key]; v < declared[k].Min {
				return ferr(field, "must be >= %d, got %d", declared[k].Min, v)
			}
		}
	}
	return nil
}

func settingKeys(s []Setting) string {
	if len(s) == 0 {
		return "none"
	}
	keys := make([]string, len(s))
	for i, x := range s {
		keys[i] = x.Key
	}
	return strings.Join(keys, ", ")
}

// resolveSettings fills ts.settings for topic: each declared setting's
// default, then the policy's value, then the last matching topic
// override's.
func (e *Engine) resolveSettings(ts *topicSettings, topic string) {
	for i, r := range recordRules {
		if len(r.settings) == 0 {
			continue
		}
		vals := make([]int, len(r.settings))
		for k, s := range r.settings {
			vals[k] = s.Default
			if v, ok := e.p.ruleSettings[r.info.ID][s.Key]; ok {
				vals[k] = v
			}
			for _, t := range e.p.topics {
				if v, ok := t.RuleSettings[r.info.ID][s.Key]; ok && matchGlob(t.Match, topic) {
					vals[k] = v
				}
			}
		}
		ts.settings[i] = vals
	}
}

// setting returns setting k (its index in the rule's settings) of rule i
// for this record's topic.
func (c *evalCtx) setting(i, k int) int { return c.ts.settings[i][k] }

// writeSettingsMarkdown lists the rules' declared settings in docs/rules.md
// (nothing when no rule declares one).
func writeSettingsMarkdown(w io.StringWriter) {
	var rows []string
	for _, r := range recordRules {
		for _, s := range r.settings {
			rows = append(rows, fmt.Sprintf("| `%s` | `%s` | %d | %d | %s |\n", r.info.ID, s.Key, s.Default, s.Min, mdEscape(s.Help)))
		}
	}
	if len(rows) == 0 {
		return
	}
	_, _ = w.WriteString("\n## Rule settings\n\nSet under `rule_settings.<rule id>` in a policy, or per topic under `topics[i].rule_settings`.\n\n")
	_, _ = w.WriteString("| rule id | key | default | minimum | meaning |\n|---|---|---|---|---|\n")
	for _, row := range rows {
		_, _ = w.WriteString(row)
	}
}
