package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleUnknownField = recordRule{
	info:  event.Rule(event.RuleEnvelopeUnknownField),
	check: checkUnknownField,
}

func checkUnknownField(c *evalCtx) {
	for _, u := range c.s.unknown {
		p := joinPath(u.parent.full, u.key)
		c.report(rUnknownField, p, "field "+p+" is not part of the envelope")
	}
}
