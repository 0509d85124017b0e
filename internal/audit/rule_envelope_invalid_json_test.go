package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

func TestRuleInvalidJSON(t *testing.T) {
	rec := func(v string) event.Record {
		return event.Record{Topic: "huleedu.dev.essaylifecycle.essay", Value: []byte(v)}
	}
	runRuleCases(t, "envelope.invalid_json", []ruleCase{
		{name: "valid", profile: "huleedu", rec: hule(nil)},
		{name: "truncated", profile: "huleedu", rec: rec(`{"event_id":"3f2b`), fires: true, msg: "truncated: string not closed"},
		{name: "array", profile: "huleedu", rec: rec(`[1,2]`), fires: true, msg: "value is a JSON array, not an object"},
		{name: "scalar", profile: "authorworks", rec: rec(`42`), fires: true, msg: "value is a JSON number, not an object"},
		{name: "binary", profile: "huleedu", rec: rec("\x00\x01\x02avro"), fires: true, msg: "invalid character 0x00"},
		{name: "empty", profile: "huleedu", rec: rec(""), fires: true, msg: "value is empty"},
		{name: "trailing", profile: "huleedu", rec: rec(`{"a":1} {"b":2}`), fires: true, msg: "unexpected data after the top-level object"},
		{name: "invalid utf8", profile: "huleedu", rec: rec("{\"a\":\"\xff\xfe\"}"), fires: true, msg: "invalid UTF-8 in string (at byte 6)"},
		{name: "bad escape", profile: "huleedu", rec: rec(`{"a":"\x41"}`), fires: true, msg: "invalid escape sequence"},
		{name: "control char", profile: "huleedu", rec: rec("{\"a\":\"line\nbreak\"}"), fires: true, msg: "control character in string"},
		{name: "leading zero", profile: "huleedu", rec: rec(`{"a":01}`), fires: true, msg: "expected ',' or '}'"},
		{name: "bad literal", profile: "huleedu", rec: rec(`{"a":nul}`), fires: true, msg: "invalid literal, expected null"},
		{name: "key not string", profile: "huleedu", rec: rec(`{a:1}`), fires: true, msg: "object key must be a string"},
	})
}
