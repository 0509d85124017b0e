package audit

import (
	"fmt"
	"io"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"
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

// writeSettingsMarkdown lists every rule setting of the registry (the
// record rules' catalogue entries, policy.Settings) in docs/rules.md.
func writeSettingsMarkdown(w io.StringWriter) {
	set := policy.Settings()
	if len(set) == 0 {
		return
	}
	_, _ = w.WriteString("\n## Rule settings\n\nEvery setting a record rule reads, from the registry: the rule's catalogue entry\n" +
		"(`Settings` in `internal/event/record_rules.go`). The older settings have a fixed place under `rules:`;\n" +
		"newer ones are set under `rule_settings.<rule id>.<key>` in a policy, or per topic under\n" +
		"`topics[i].rule_settings`. A value of the wrong type, below the minimum or unknown is an error\n" +
		"naming the path and line.\n\n")
	_, _ = w.WriteString("| setting | rule | type | default | meaning |\n|---|---|---|---|---|\n")
	for _, s := range set {
		_, _ = w.WriteString(fmt.Sprintf("| `%s` | `%s` | %s | %s | %s |\n", s.YAMLPath(s.Rule), s.Rule, settingType(s.Setting),
			settingDefault(s.Setting), mdEscape(s.Help)))
	}
}

// settingType is the type cell: the kind, its minimum, and whether a
// policy must set it.
func settingType(s event.Setting) string {
	kind := s.Kind
	if kind == "" {
		kind = event.SettingInt
	}
	t := string(kind)
	if (kind == event.SettingInt || kind == event.SettingIntMap) && s.Min != 0 {
		t += fmt.Sprintf(", >= %d", s.Min)
	}
	if s.Required {
		t += ", required unless the rule is off"
	}
	return t
}

func settingDefault(s event.Setting) string {
	if s.Default == "" {
		return "none"
	}
	return "`" + s.Default + "`"
}
