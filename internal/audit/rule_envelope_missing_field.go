package audit

var ruleMissingField = recordRule{
	info: RuleInfo{ID: "envelope.missing_field", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "a required envelope field is absent or null",
		Standard: "HuleEdu 030 §3.1 (fields you MUST populate); AuthorWorks: Event Schema, Producer Responsibilities 1-3"},
	check: checkMissingField,
}

func checkMissingField(c *evalCtx) {
	for r := range numRoles {
		f := &c.e.p.fields[r]
		if !f.defined || !f.required {
			continue
		}
		switch c.s.fields[r].kind {
		case kindAbsent:
			c.report(rMissingField, f.path, "required field "+f.path+" is missing")
		case kindNull:
			c.report(rMissingField, f.path, "required field "+f.path+" is null")
		}
	}
}
