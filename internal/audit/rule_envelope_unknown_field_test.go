package audit

import "testing"

func TestRuleUnknownField(t *testing.T) {
	runRuleCases(t, "envelope.unknown_field", []ruleCase{
		{name: "compliant", profile: "authorworks", rec: aw(nil)},
		{name: "top level extra", profile: "authorworks", rec: aw(map[string]string{"payload": `{}`}),
			fires: true, field: "payload", msg: "field payload is not part of the envelope"},
		{name: "meta extra", profile: "authorworks", rec: aw(map[string]string{"meta.tenant": `"t1"`}),
			fires: true, field: "meta.tenant", msg: "field meta.tenant is not part of the envelope"},
		{name: "data fields are free", profile: "authorworks", rec: aw(map[string]string{"data": `{"anything":{"goes":1}}`})},
		{name: "huleedu is not strict", profile: "huleedu", rec: hule(map[string]string{"schema_version": "1"})},
	})
}
