package audit

var ruleDuplicate = recordRule{
	info: RuleInfo{ID: "duplicate.event_id", Severity: SeverityWarning, Scope: ScopeRecord,
		Summary:  "an event id seen before within the duplicate window (at-least-once delivery is fine; the rate is reported)",
		Standard: "HuleEdu 030 §3.1 (event_id unique per event instance), §5.1 (idempotent consumers); AuthorWorks: Delivery Guarantees (at-least-once)"},
	check: checkDuplicate,
}

// checkDuplicate keeps the window on record time (the Kafka timestamp, or
// now for bare events), so replays and backfills are judged as produced. A
// record read again at the same topic, partition and offset is not a
// duplicate: only the producer writing the id twice is.
func checkDuplicate(c *evalCtx) {
	if c.res.EventID == "" || !c.e.dups.seen(c.raw(roleID), recordLoc(c.rec), c.refTime()) {
		return
	}
	f := c.e.p.fields[roleID].path
	c.reportf(rDuplicate, f, "event id %q in %s was seen before (within %s)", clip(c.res.EventID), f, c.e.opts.DuplicateWindow)
}
