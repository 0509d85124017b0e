package audit

var ruleMissingContext = recordRule{
	info: RuleInfo{ID: "trace.missing_context", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "no trace context: neither the envelope trace fields nor a valid W3C traceparent header",
		Standard: "AuthorWorks: Event Schema (meta.trace_context), Consumer Responsibilities 5, Monitoring 4 (distributed tracing across event boundaries)"},
	check: checkMissingContext,
}

func checkMissingContext(c *evalCtx) {
	if c.res.TraceID != "" {
		return
	}
	f := c.e.p.fields[roleTraceID].path
	if tp, ok := c.rec.Header("traceparent"); ok {
		c.reportf(rMissingContext, f, "no trace context: %s is %s and the traceparent header %q is not valid W3C trace context",
			orWord(f, "absent"), absentWord(c.s.fields[roleTraceID].kind), clip(string(tp)))
		return
	}
	if f == "" {
		c.report(rMissingContext, "", "no trace context: no traceparent header")
		return
	}
	c.reportf(rMissingContext, f, "no trace context: %s is %s and there is no traceparent header", f, absentWord(c.s.fields[roleTraceID].kind))
}

func orWord(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
