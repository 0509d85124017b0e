package audit

import (
	"strings"

	"github.com/eventwatch/eventwatch/internal/event"
)

var ruleActionTense = recordRule{
	info:  event.Rule(event.RuleNamingActionTense),
	check: checkActionTense,
}

func checkActionTense(c *evalCtx) {
	v := c.verdct
	if v == nil || !v.patternOK || v.action == "" || v.tenseOK {
		return
	}
	f := c.e.fields[roleType].path
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
