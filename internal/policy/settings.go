package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eventwatch/eventwatch/internal/event"
)

// ruleSettings maps rule id -> key -> value, as written in a policy.
type ruleSettings map[string]map[string]int

// compileRuleSettings checks rule_settings and every topic's against the
// settings the record rules declare in the rule catalogue
// (event.RuleInfo.Settings), and keeps the values as written.
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
		info, ok := event.LookupRule(id)
		if !ok || info.Scope != event.ScopeRecord {
			return ferr(base+"."+id, "unknown record rule id")
		}
		for _, key := range sortedKeys(rs[id]) {
			field := base + "." + id + "." + key
			k := slices.IndexFunc(info.Settings, func(s event.Setting) bool { return s.Key == key })
			if k >= 0 && info.Settings[k].Path != "" {
				return ferr(field, "unknown setting (%s reads it at %s)", id, info.Settings[k].Path)
			}
			if k < 0 {
				return ferr(field, "unknown setting (%s has: %s)", id, settingKeys(info.Settings))
			}
			if v := rs[id][key]; v < info.Settings[k].Min {
				return ferr(field, "must be >= %d, got %d", info.Settings[k].Min, v)
			}
		}
	}
	return nil
}

func settingKeys(s []event.Setting) string {
	var keys []string
	for _, x := range s {
		if x.Path == "" {
			keys = append(keys, x.Key)
		}
	}
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}

// RuleSetting returns the value of setting s of rule on topic: the
// declared default, then the policy's rule_settings value, then the last
// matching topics[] override's.
func (p *Profile) RuleSetting(rule string, s event.Setting, topic string) int {
	v := s.IntDefault()
	if w, ok := p.ruleSettings[rule][s.Key]; ok {
		v = w
	}
	for _, t := range p.topics {
		if w, ok := t.RuleSettings[rule][s.Key]; ok && matchGlob(t.Match, topic) {
			v = w
		}
	}
	return v
}
