package audit

import "strings"

var ruleDLQContext = recordRule{
	info: RuleInfo{ID: "dlq.missing_error_context", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "a dead-letter record does not wrap the original event with error context",
		Standard: "AuthorWorks: Dead Letter Handling 2 (original event is wrapped with error context); HuleEdu 030 §5.2 (DLQ strategy)"},
	check: checkDLQContext,
	on:    onDLQ,
}

func checkDLQContext(c *evalCtx) {
	d := &c.e.p.dlq
	if !d.requireWrapper() && d.errorHeader(c.rec) {
		return // the Spring Kafka / Kafka Connect way: original value as is, error in headers
	}
	switch c.s.fields[roleDLQOriginal].kind {
	case kindObject, kindString:
	default:
		c.reportf(rDLQContext, "", "dead-letter record on %q does not wrap the original event (no object field %s)",
			c.rec.Topic, strings.Join(d.OriginalFields, ", "))
		return
	}
	if k := c.s.fields[roleDLQError].kind; k != kindAbsent && k != kindNull {
		return
	}
	if d.errorHeader(c.rec) {
		return
	}
	c.reportf(rDLQContext, "", "dead-letter record on %q has no error context (no field %s)",
		c.rec.Topic, strings.Join(d.ErrorFields, ", "))
}
