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
	if produced, registered := c.e.cat.ProducedBy(c.res.EventType, c.res.Version, c.res.Source); !registered || produced {
		return
	}
	f := c.e.fields[roleSource].path
	c.reportf(rProducerMismatch, f, "%s is %q but the catalog registers %q as the producer of %s",
		f, clip(c.res.Source), strings.Join(c.e.cat.Producers(c.res.EventType, c.res.Version), `" or "`), clip(c.res.EventType))
}
