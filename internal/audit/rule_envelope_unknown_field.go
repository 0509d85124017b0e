package audit

var ruleUnknownField = recordRule{
	info: RuleInfo{ID: "envelope.unknown_field", Severity: SeverityWarning, Scope: ScopeRecord,
		Summary:  "a field outside the envelope schema (only where the profile is strict)",
		Standard: "AuthorWorks: Event Schema (all events must adhere to a standard schema: meta + data)"},
	check: checkUnknownField,
}

func checkUnknownField(c *evalCtx) {
	for _, u := range c.s.unknown {
		p := joinPath(u.parent.full, u.key)
		c.report(rUnknownField, p, "field "+p+" is not part of the envelope")
	}
}
