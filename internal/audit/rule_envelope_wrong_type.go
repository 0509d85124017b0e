package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleWrongType = recordRule{
	info:  event.Rule(event.RuleEnvelopeWrongType),
	check: checkWrongType,
}

func checkWrongType(c *evalCtx) {
	for r := range numRoles {
		f := &c.e.fields[r]
		sp := c.s.fields[r]
		if !f.defined || sp.kind == kindAbsent || sp.kind == kindNull {
			continue
		}
		if !f.matches(sp.kind, sp.integral) {
			c.reportf(rWrongType, f.path, "field %s is a %s, want %s", f.path, kindNames[sp.kind], f.typ)
		}
	}
}
