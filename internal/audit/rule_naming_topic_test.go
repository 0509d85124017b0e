package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

func TestRuleTopic(t *testing.T) {
	onTopic := func(r event.Record, topic string) event.Record { r.Topic = topic; return r }
	runRuleCases(t, "naming.topic", []ruleCase{
		{name: "huleedu canonical", profile: "huleedu", rec: hule(nil)},
		{name: "huleedu dlq", profile: "huleedu", rec: onTopic(hule(nil), "huleedu.dev.essaylifecycle.essay.dlq")},
		{name: "huleedu missing env", profile: "huleedu", rec: onTopic(hule(nil), "essay-events"),
			fires: true, msg: `topic "essay-events" does not match the pattern`},
		{name: "bare event has no topic", profile: "huleedu", rec: onTopic(hule(nil), "")},
		{name: "authorworks service topic", profile: "authorworks", rec: onTopic(aw(nil), "content.book")},
		{name: "authorworks upper case", profile: "authorworks", rec: onTopic(aw(nil), "Content_Events"), fires: true},
		{name: "invalid value still judged", profile: "huleedu", rec: event.Record{Topic: "BAD TOPIC", Value: []byte("x")}, fires: true},
	})
}
