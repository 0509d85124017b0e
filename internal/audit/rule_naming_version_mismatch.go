package audit

var ruleVersionMismatch = recordRule{
	info: RuleInfo{ID: "naming.version_mismatch", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the version in the event type name disagrees with the version field",
		Standard: "HuleEdu 030 §3.3, §6 (versioned event_type); AuthorWorks: Event Versioning (version in the event metadata)"},
	check: checkVersionMismatch,
}

func checkVersionMismatch(c *evalCtx) {
	f := &c.e.p.fields[roleVersion]
	if c.verdct == nil || c.verdct.typeVersion == "" || !f.defined {
		return
	}
	field := c.versionString()
	if field == "" || normalizeVersion(field) == normalizeVersion(c.verdct.typeVersion) {
		return
	}
	c.reportf(rVersionMismatch, f.path, "event type %q names version %s but %s is %q",
		clip(c.res.EventType), c.verdct.typeVersion, f.path, clip(field))
}
