package audit

import "testing"

func TestRuleUnregistered(t *testing.T) {
	cases := []ruleCase{
		{name: "registered", profile: "huleedu", rec: hule(nil)},
		{name: "unknown type", profile: "huleedu",
			rec:   hule(map[string]string{"event_type": `"huleedu.essaylifecycle.essay.nlp_requested.v1"`}),
			fires: true, field: "event_type", msg: `event type "huleedu.essaylifecycle.essay.nlp_requested.v1" is not registered`},
		{name: "unknown version", profile: "huleedu",
			rec:   hule(map[string]string{"event_type": `"huleedu.essaylifecycle.essay.spellcheck_requested.v2"`}),
			fires: true, field: "event_type", msg: "is not registered"},
	}
	runRuleCases(t, "catalog.unregistered_type", cases, withCatalog(exampleCatalog(t, "huleedu")))
	runRuleCases(t, "catalog.unregistered_type", []ruleCase{
		{name: "registered", profile: "authorworks", rec: aw(nil)},
		{name: "new version", profile: "authorworks", rec: aw(map[string]string{"meta.version": `"2.0"`}),
			fires: true, field: "meta.type", msg: `event type "content.book.published" version "2.0" is not registered`},
	}, withCatalog(exampleCatalog(t, "authorworks")))
	runRuleCases(t, "catalog.unregistered_type", []ruleCase{{name: "no catalog", profile: "huleedu", rec: hule(map[string]string{"event_type": `"huleedu.x.y.z_done.v1"`})}})
}
