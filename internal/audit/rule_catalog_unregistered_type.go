package audit

var ruleUnregistered = recordRule{
	info: RuleInfo{ID: "catalog.unregistered_type", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the event type (and version) is not in the event catalog",
		Standard: "AuthorWorks: Event Types Registry (all event types must be registered); HuleEdu 030 §3.2 (data models from common/)"},
	check: checkUnregistered,
}

func checkUnregistered(c *evalCtx) {
	cat := c.e.cat
	t := c.res.EventType
	if cat == nil || t == "" || cat.item(t, c.res.Version) != nil {
		return
	}
	f := c.e.p.fields[roleType].path
	if cat.HasType(t) {
		c.reportf(rUnregistered, f, "event type %q version %q is not registered in the catalog", clip(t), clip(c.res.Version))
		return
	}
	c.reportf(rUnregistered, f, "event type %q is not registered in the catalog", clip(t))
}
