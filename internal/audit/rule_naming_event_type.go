package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleEventType = recordRule{
	info:  event.Rule(event.RuleNamingEventType),
	check: checkEventType,
}

func checkEventType(c *evalCtx) {
	if c.verdct == nil || c.verdct.patternOK {
		return
	}
	f := c.e.fields[roleType].path
	c.reportf(rEventType, f, "event type %q in %s does not match the pattern %s", clip(c.res.EventType), f, c.e.p.EventTypePattern())
}
