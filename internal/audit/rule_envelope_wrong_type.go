package audit

var ruleWrongType = recordRule{
	info: RuleInfo{ID: "envelope.wrong_type", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "an envelope field has the wrong JSON type (e.g. a numeric id, data that is not an object)",
		Standard: "HuleEdu 030 §3.1, §3.2 (typed data model); AuthorWorks: Event Schema"},
	check: checkWrongType,
}

func checkWrongType(c *evalCtx) {
	for r := range numRoles {
		f := &c.e.p.fields[r]
		sp := c.s.fields[r]
		if !f.defined || sp.kind == kindAbsent || sp.kind == kindNull {
			continue
		}
		if !f.matches(sp.kind, sp.integral) {
			c.reportf(rWrongType, f.path, "field %s is a %s, want %s", f.path, kindNames[sp.kind], f.typ)
		}
	}
}
