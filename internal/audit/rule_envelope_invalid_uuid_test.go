package audit

import "testing"

func TestRuleInvalidUUID(t *testing.T) {
	runRuleCases(t, "envelope.invalid_uuid", []ruleCase{
		{name: "uuid v4", profile: "huleedu", rec: hule(nil)},
		{name: "uuid v1 is fine for huleedu", profile: "huleedu", rec: hule(map[string]string{"event_id": `"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`})},
		{name: "not a uuid", profile: "huleedu", rec: hule(map[string]string{"event_id": `"evt-123"`}),
			fires: true, field: "event_id", msg: `field event_id is "evt-123", not a UUID`},
		{name: "bad correlation uuid", profile: "huleedu", rec: hule(map[string]string{"correlation_id": `"req-1"`}),
			fires: true, field: "correlation_id", msg: "not a UUID"},
		{name: "braced uuid", profile: "huleedu", rec: hule(map[string]string{"event_id": `"{3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0c}"`}),
			fires: true, field: "event_id", msg: "not a UUID"},
		{name: "authorworks v1 uuid", profile: "authorworks", rec: aw(map[string]string{"meta.id": `"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`}),
			fires: true, field: "meta.id", msg: "not a version 4 UUID"},
		{name: "authorworks free-form correlation", profile: "authorworks", rec: aw(map[string]string{"meta.correlation_id": `"original-request-id"`})},
	})
}
