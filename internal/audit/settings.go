package audit

import (
	"fmt"
	"io"
)

// resolveSettings fills ts.settings for topic: the value of each setting a
// rule declares in its catalogue entry (event.RuleInfo.Settings), resolved
// by the profile (default, rule_settings, topic override).
func (e *Engine) resolveSettings(ts *topicSettings, topic string) {
	for i, r := range recordRules {
		if len(r.info.Settings) == 0 {
			continue
		}
		vals := make([]int, len(r.info.Settings))
		for k, s := range r.info.Settings {
			vals[k] = e.p.RuleSetting(r.info.ID, s, topic)
		}
		ts.settings[i] = vals
	}
}

// setting returns setting k (its index in the rule's catalogue Settings)
// of rule i for this record's topic.
func (c *evalCtx) setting(i, k int) int { return c.ts.settings[i][k] }

// writeSettingsMarkdown lists the rules' declared settings in docs/rules.md
// (nothing when no rule declares one).
func writeSettingsMarkdown(w io.StringWriter) {
	var rows []string
	for _, r := range recordRules {
		for _, s := range r.info.Settings {
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
