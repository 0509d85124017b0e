package audit

var ruleMissingCorrelation = recordRule{
	info: RuleInfo{ID: "trace.missing_correlation_id", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "no correlation id where the profile requires one",
		Standard: "HuleEdu 030 §3.1 (correlation_id: propagate if received, or generate for new chains); AuthorWorks: Producer Responsibilities 4, Consumer Responsibilities 5"},
	check: checkMissingCorrelation,
}

func checkMissingCorrelation(c *evalCtx) {
	f := &c.e.p.fields[roleCorrelation]
	if !f.defined || c.res.CorrelationID != "" {
		return
	}
	c.report(rMissingCorrelation, f.path, "no correlation id: "+f.path+" is "+absentWord(c.s.fields[roleCorrelation].kind))
}

func absentWord(k byte) string {
	switch k {
	case kindAbsent:
		return "missing"
	case kindNull:
		return "null"
	case kindString:
		return "empty"
	}
	return "not a string"
}
