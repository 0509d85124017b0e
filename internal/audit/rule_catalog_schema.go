package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleSchema = recordRule{
	info:  event.Rule(event.RuleCatalogSchema),
	check: checkSchema,
}

func checkSchema(c *evalCtx) {
	if c.e.cat == nil || c.res.EventType == "" || c.s.fields[roleData].kind != kindObject {
		return
	}
	if msg, version, ok := c.e.cat.Validate(c.res.EventType, c.res.Version, c.raw(roleData)); ok && msg != "" {
		c.reportf(rSchema, c.e.fields[roleData].path, "%s %s does not match the catalog schema: %s",
			clip(c.res.EventType), version, msg)
	}
}
