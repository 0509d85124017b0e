package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleKeyMissing = recordRule{
	info:  event.Rule(event.RuleKeyMissing),
	check: checkKeyMissing,
	on:    onEnvelope | onInvalid,
}

// checkKeyMissing needs the Kafka record: a bare event (empty Topic, as
// `eventwatch check` reads plain NDJSON events) has no key to judge.
func checkKeyMissing(c *evalCtx) {
	if c.rec.Topic == "" || len(c.rec.Key) > 0 {
		return
	}
	c.reportf(rKeyMissing, "", "record on topic %q has no key; partition by the resource id", c.rec.Topic)
}
