package audit

import "testing"

func TestRuleProducerMismatch(t *testing.T) {
	runRuleCases(t, "catalog.producer_mismatch", []ruleCase{
		{name: "registered producer", profile: "huleedu", rec: hule(nil)},
		{name: "other service", profile: "huleedu", rec: hule(map[string]string{"source_service": `"spellchecker_service"`}),
			fires: true, field: "source_service",
			msg: `source_service is "spellchecker_service" but the catalog registers "essay_lifecycle_service" as the producer`},
		{name: "unregistered type is not judged", profile: "huleedu",
			rec: hule(map[string]string{"event_type": `"huleedu.a.b.c_done.v1"`, "source_service": `"x"`})},
	}, withCatalog(exampleCatalog(t, "huleedu")))
}
