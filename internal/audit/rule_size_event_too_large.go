package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleTooLarge = recordRule{
	info:  event.Rule(event.RuleSizeEventTooLarge),
	check: checkTooLarge,
	on:    onAll,
}

func checkTooLarge(c *evalCtx) {
	limit := c.e.p.MaxBytesFor(c.res.EventType, c.ts.maxBytes)
	if limit <= 0 || len(c.rec.Value) <= limit {
		return
	}
	c.reportf(rTooLarge, "", "event is %d bytes, above the %d-byte limit", len(c.rec.Value), limit)
}
