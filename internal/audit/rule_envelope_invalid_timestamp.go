package audit

import (
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
)

var ruleInvalidTimestamp = recordRule{
	info:  event.Rule(event.RuleEnvelopeInvalidTimestamp),
	check: checkInvalidTimestamp,
}

func checkInvalidTimestamp(c *evalCtx) {
	f := &c.e.fields[roleTimestamp]
	if !f.defined || f.format != "rfc3339_utc" || !c.hasTS {
		return
	}
	if c.tsErr != "" {
		c.reportf(rInvalidTimestamp, f.path, "field %s is %q, which %s", f.path, clip(c.str(roleTimestamp)), c.tsErr)
		return
	}
	ref, t, lim := c.refTime(), c.res.EventTime, c.e.ts
	if lim.MaxFuture > 0 && t.After(ref.Add(lim.MaxFuture)) {
		c.reportf(rInvalidTimestamp, f.path, "field %s is %s, more than %s in the future", f.path, t.Format(time.RFC3339), lim.MaxFuture)
	}
	if lim.MaxAge > 0 && t.Before(ref.Add(-lim.MaxAge)) {
		c.reportf(rInvalidTimestamp, f.path, "field %s is %s, more than %s in the past", f.path, t.Format(time.RFC3339), lim.MaxAge)
	}
}
