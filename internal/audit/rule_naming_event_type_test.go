package audit

import "testing"

func TestRuleEventType(t *testing.T) {
	typ := func(s string) map[string]string { return map[string]string{"event_type": `"` + s + `"`} }
	awTyp := func(s string) map[string]string { return map[string]string{"meta.type": `"` + s + `"`} }
	runRuleCases(t, "naming.event_type", []ruleCase{
		{name: "standard example 1", profile: "huleedu", rec: hule(typ("huleedu.batchorchestration.batch.pipelines_configured.v1"))},
		{name: "standard example 2", profile: "huleedu", rec: hule(typ("huleedu.essaylifecycle.essay.spellcheck_requested.v1"))},
		{name: "no version", profile: "huleedu", rec: hule(typ("huleedu.essaylifecycle.essay.spellcheck_requested")),
			fires: true, field: "event_type", msg: `event type "huleedu.essaylifecycle.essay.spellcheck_requested" in event_type does not match`},
		{name: "wrong namespace", profile: "huleedu", rec: hule(typ("acme.essaylifecycle.essay.spellcheck_requested.v1")),
			fires: true, field: "event_type"},
		{name: "camel case", profile: "huleedu", rec: hule(typ("huleedu.EssayLifecycle.essay.SpellcheckRequested.v1")),
			fires: true, field: "event_type"},
		{name: "authorworks example", profile: "authorworks", rec: aw(awTyp("subscription.payment.succeeded"))},
		{name: "authorworks two segments", profile: "authorworks", rec: aw(awTyp("book.published")),
			fires: true, field: "meta.type", msg: "does not match the pattern"},
		{name: "authorworks versioned type", profile: "authorworks", rec: aw(awTyp("content.book.published.v1")),
			fires: true, field: "meta.type"},
	})
}
