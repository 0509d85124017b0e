package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleInvalidUUID = recordRule{
	info:  event.Rule(event.RuleEnvelopeInvalidUUID),
	check: checkInvalidUUID,
}

func checkInvalidUUID(c *evalCtx) {
	for r := range numRoles {
		f := &c.e.fields[r]
		if !f.defined || (f.format != "uuid" && f.format != "uuid_v4") || c.s.fields[r].kind != kindString {
			continue
		}
		v := c.raw(r)
		switch {
		case f.format == "uuid" && !isUUID(v):
			c.reportf(rInvalidUUID, f.path, "field %s is %q, not a UUID", f.path, clip(c.str(r)))
		case f.format == "uuid_v4" && !isUUIDv4(v):
			c.reportf(rInvalidUUID, f.path, "field %s is %q, not a version 4 UUID", f.path, clip(c.str(r)))
		}
	}
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "..."
}
