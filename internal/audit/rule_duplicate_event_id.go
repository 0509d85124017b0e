package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleDuplicate = recordRule{
	info:  event.Rule(event.RuleDuplicateEventID),
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
	f := c.e.fields[roleID].path
	c.reportf(rDuplicate, f, "event id %q in %s was seen before (within %s)", clip(c.res.EventID), f, c.e.opts.DuplicateWindow)
}
