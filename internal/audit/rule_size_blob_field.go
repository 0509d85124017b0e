package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleBlobField = recordRule{
	info:  event.Rule(event.RuleSizeBlobField),
	check: checkBlobField,
}

func checkBlobField(c *evalCtx) {
	for _, b := range c.s.blobs {
		c.report(rBlobField, b.path, "field "+b.path+" carries "+b.reason+"; store it and send a storage reference")
	}
}
