package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleMissingContext = recordRule{
	info:  event.Rule(event.RuleTraceMissingContext),
	check: checkMissingContext,
}

func checkMissingContext(c *evalCtx) {
	if c.res.TraceID != "" {
		return
	}
	f := c.e.fields[roleTraceID].path
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
