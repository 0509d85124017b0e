package audit

var ruleEventType = recordRule{
	info: RuleInfo{ID: "naming.event_type", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the event type does not match the profile's naming pattern",
		Standard: "HuleEdu 030 §3.3 (<project_namespace>.<domain_or_service>.<entity>.<action_past_tense>.v<version_number>); AuthorWorks: Event Type Naming Convention (service.resource.action)"},
	check: checkEventType,
}

func checkEventType(c *evalCtx) {
	if c.verdct == nil || c.verdct.patternOK {
		return
	}
	f := c.e.p.fields[roleType].path
	c.reportf(rEventType, f, "event type %q in %s does not match the pattern %s", clip(c.res.EventType), f, c.e.p.eventType)
}
