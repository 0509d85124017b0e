package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleUnregistered = recordRule{
	info:  event.Rule(event.RuleCatalogUnregisteredType),
	check: checkUnregistered,
}

func checkUnregistered(c *evalCtx) {
	cat := c.e.cat
	t := c.res.EventType
	if cat == nil || t == "" || cat.HasTypeVersion(t, c.res.Version) {
		return
	}
	f := c.e.fields[roleType].path
	if cat.HasType(t) {
		c.reportf(rUnregistered, f, "event type %q version %q is not registered in the catalog", clip(t), clip(c.res.Version))
		return
	}
	c.reportf(rUnregistered, f, "event type %q is not registered in the catalog", clip(t))
}
