package audit

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

// pastExample suggests a past-tense spelling for a message.
func pastExample(action string) string {
	switch {
	case action == "":
		return "created"
	case action[len(action)-1] == 'e':
		return "\"" + action + "d\""
	}
	return "\"" + action + "ed\""
}
