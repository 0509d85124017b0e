package audit

import (
	"strconv"

	"github.com/eventwatch/eventwatch/internal/event"
)

var ruleInvalidJSON = recordRule{
	info:  event.Rule(event.RuleEnvelopeInvalidJSON),
	check: checkInvalidJSON,
	on:    onInvalid,
}

func checkInvalidJSON(c *evalCtx) {
	if c.valid {
		return
	}
	c.report(rInvalidJSON, "", "value is not a JSON object: "+c.s.err+" (at byte "+strconv.Itoa(c.s.errPos)+")")
}
