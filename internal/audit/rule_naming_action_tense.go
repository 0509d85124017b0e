package audit

import "strings"

var ruleActionTense = recordRule{
	info: RuleInfo{ID: "naming.action_tense", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the action segment of the event type is not in the past tense",
		Standard: "HuleEdu 030 §3.3 (<action_past_tense>); AuthorWorks: Event Type Naming Convention (examples created, published, succeeded)"},
	check: checkActionTense,
}

func checkActionTense(c *evalCtx) {
	v := c.verdct
	if v == nil || !v.patternOK || v.action == "" || v.tenseOK {
		return
	}
	f := c.e.p.fields[roleType].path
	c.reportf(rActionTense, f, "action %q of event type %q in %s is not past tense (events name what happened, e.g. %s)",
		v.action, clip(c.res.EventType), f, pastExample(v.action))
}

// pastExample suggests a past-tense spelling for a message: a verb-first
// compound ("request_spellcheck") becomes object-then-verb
// ("spellcheck_requested"), a single word gets "-ed".
func pastExample(action string) string {
	words := strings.FieldsFunc(action, func(r rune) bool { return r == '_' || r == '-' })
	if len(words) == 0 {
		return `"created"`
	}
	verb := words[0]
	if strings.HasSuffix(verb, "e") {
		verb += "d"
	} else {
		verb += "ed"
	}
	return `"` + strings.Join(append(words[1:], verb), "_") + `"`
}
