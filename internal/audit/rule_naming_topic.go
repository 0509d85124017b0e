package audit

import "github.com/eventwatch/eventwatch/internal/event"

var ruleTopic = recordRule{
	info:  event.Rule(event.RuleNamingTopic),
	check: checkTopic,
	on:    onAll,
}

func checkTopic(c *evalCtx) {
	if c.ts.topicOK {
		return
	}
	c.reportf(rTopic, "", "topic %q does not match the pattern %s", c.rec.Topic, c.e.p.TopicPattern())
}
