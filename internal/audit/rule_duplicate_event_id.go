package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleDuplicate = recordRule{
	info:  event.Rule(event.RuleDuplicateEventID),
	check: checkDuplicate,
}

// checkDuplicate keeps the window on record time (the Kafka timestamp, or
// now for bare events), so replays and backfills are judged as produced. A
// record read again at the same topic, partition and offset is not a
// duplicate: only the producer writing the id twice is. The in-process
// window judges first; Result.IDCheck carries the id's hash and location
// to the ledger, which judges it against the ids the store remembers
// (copies read before a restart or by another replica).
//
// A dead-letter copy (Result.DeadLetter: Spring kafka_dlt-* or Connect
// __connect.errors.* headers, on a topic no dead-letter pattern names)
// repeats its original's id by design: it is not a producer duplicate.
func checkDuplicate(c *evalCtx) {
	if c.res.EventID == "" || c.res.DeadLetter || c.waived(rDuplicate) {
		return
	}
	id, loc, at := c.raw(roleID), recordLoc(c.rec), c.refTime()
	dup := c.e.dups.seen(id, loc, at)
	f := c.e.fields[roleID].path
	c.res.IDCheck = event.IDCheck{Hash: fmix64(hashBytes(c.e.idSeed, id)) | 1, Loc: loc, At: at,
		Severity: c.ts.sev[rDuplicate], Field: f, Flagged: dup}
	if dup {
		c.report(rDuplicate, f, event.DuplicateMessage(c.res.EventID, f, c.e.opts.DuplicateWindow))
	}
}
