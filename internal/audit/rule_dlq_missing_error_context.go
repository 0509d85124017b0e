package audit

import (
	"strings"

	"github.com/eventwatch/eventwatch/internal/event"
)

var ruleDLQContext = recordRule{
	info:  event.Rule(event.RuleDLQMissingErrorContext),
	check: checkDLQContext,
	on:    onDLQ,
}

func checkDLQContext(c *evalCtx) {
	d := &c.e.dlq
	if !d.MustWrap() && d.ErrorHeader(c.rec) {
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
	if d.ErrorHeader(c.rec) {
		return
	}
	c.reportf(rDLQContext, "", "dead-letter record on %q has no error context (no field %s)",
		c.rec.Topic, strings.Join(d.ErrorFields, ", "))
}
