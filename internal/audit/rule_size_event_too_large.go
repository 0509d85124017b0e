package audit

var ruleTooLarge = recordRule{
	info: RuleInfo{ID: "size.event_too_large", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the serialized event is larger than the thin-event limit (per profile, topic or type)",
		Standard: "HuleEdu 030 §3.4 (thin events, events as notifications)"},
	check: checkTooLarge,
	on:    onAll,
}

func checkTooLarge(c *evalCtx) {
	limit := c.e.p.maxBytesFor(c.res.EventType, c.ts.maxBytes)
	if limit <= 0 || len(c.rec.Value) <= limit {
		return
	}
	c.reportf(rTooLarge, "", "event is %d bytes, above the %d-byte limit", len(c.rec.Value), limit)
}
