package audit

import (
	"strings"

	"github.com/eventwatch/eventwatch/internal/event"
)

var ruleProducerMismatch = recordRule{
	info:  event.Rule(event.RuleCatalogProducerMismatch),
	check: checkProducerMismatch,
}

func checkProducerMismatch(c *evalCtx) {
	if c.e.cat == nil || c.res.EventType == "" || c.res.Source == "" {
		return
	}
	it := c.e.cat.item(c.res.EventType, c.res.Version)
	if it == nil || it.entry.ProducedBy(c.res.Source) {
		return
	}
	f := c.e.p.fields[roleSource].path
	c.reportf(rProducerMismatch, f, "%s is %q but the catalog registers %q as the producer of %s",
		f, clip(c.res.Source), strings.Join(it.entry.AllProducers(), `" or "`), clip(c.res.EventType))
}
