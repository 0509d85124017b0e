package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleVersionMismatch = recordRule{
	info:  event.Rule(event.RuleNamingVersionMismatch),
	check: checkVersionMismatch,
}

func checkVersionMismatch(c *evalCtx) {
	f := &c.e.fields[roleVersion]
	if c.verdct == nil || c.verdct.typeVersion == "" || !f.defined {
		return
	}
	field := c.versionString()
	if field == "" || event.NormalizeVersion(field) == event.NormalizeVersion(c.verdct.typeVersion) {
		return
	}
	c.reportf(rVersionMismatch, f.path, "event type %q names version %s but %s is %q",
		clip(c.res.EventType), c.verdct.typeVersion, f.path, clip(field))
}
