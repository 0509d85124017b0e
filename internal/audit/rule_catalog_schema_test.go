package audit

import (
	"testing"
)

func TestRuleSchema(t *testing.T) {
	runRuleCases(t, "catalog.schema", []ruleCase{
		{name: "valid", profile: "huleedu", rec: hule(nil)},
		{name: "missing required", profile: "huleedu",
			rec:   hule(map[string]string{"data": `{"entity_ref":{"entity_id":"e","entity_type":"essay"}}`}),
			fires: true, field: "data", msg: "missing property 'text_storage_id'"},
		{name: "wrong nested type", profile: "huleedu",
			rec:   hule(map[string]string{"data": `{"entity_ref":{"entity_id":7,"entity_type":"essay"},"text_storage_id":"s"}`}),
			fires: true, field: "data", msg: "data.entity_ref.entity_id: got number, want string"},
	}, withCatalog(exampleCatalog(t, "huleedu")))
	runRuleCases(t, "catalog.schema", []ruleCase{
		{name: "valid", profile: "authorworks", rec: aw(nil)},
		{name: "enum", profile: "authorworks", rec: aw(map[string]string{"meta.type": `"user.account.created"`, "meta.source": `"user-service"`,
			"data": `{"user_id":"u","email_verified":true,"plan":"gold"}`}), fires: true, field: "data", msg: "data.plan"},
	}, withCatalog(exampleCatalog(t, "authorworks")))
}
