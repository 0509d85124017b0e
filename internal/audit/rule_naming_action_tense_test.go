package audit

import "testing"

func TestRuleActionTense(t *testing.T) {
	typ := func(s string) map[string]string { return map[string]string{"event_type": `"` + s + `"`} }
	runRuleCases(t, "naming.action_tense", []ruleCase{
		{name: "compound past", profile: "huleedu", rec: hule(typ("huleedu.batchorchestration.batch.pipelines_configured.v1"))},
		{name: "irregular", profile: "huleedu", rec: hule(typ("huleedu.notification.email.sent.v1"))},
		{name: "imperative", profile: "huleedu", rec: hule(typ("huleedu.essaylifecycle.essay.request_spellcheck.v1")),
			fires: true, field: "event_type", msg: `action "request_spellcheck" of event type`},
		{name: "noun", profile: "authorworks", rec: aw(map[string]string{"meta.type": `"content.file.upload"`}),
			fires: true, field: "meta.type", msg: `action "upload"`},
		{name: "authorworks past", profile: "authorworks", rec: aw(map[string]string{"meta.type": `"user.account.created"`})},
		{name: "pattern failure is reported by naming.event_type only", profile: "huleedu", rec: hule(typ("huleedu.essay.upload"))},
	})
}

func TestIsPastTense(t *testing.T) {
	cases := map[string]bool{
		"spellcheck_requested": true, "pipelines_configured": true, "created": true, "published": true,
		"succeeded": true, "cancelled": true, "applied": true, "sent": true, "built": true, "begun": true,
		"done": true, "paid": true, "sold": true, "written": true, "chosen": true, "reset": true,
		"batch_processing_completed": true, "Created": true, "content-uploaded": true, "agreed": true, "freed": true,
		"request_spellcheck": false, "upload": false, "creation": false, "create": false, "processing": false,
		"need": false, "speed": false, "embed": false, "proceed": false, "succeed": false, "seed": false,
		"pipelines_configure": false, "": false, "ed": false, "red": false, "status": false, "v1": false,
		"essay_spellcheck": false, "req_ed2": false, "hundred": false,
	}
	for in, want := range cases {
		if got := IsPastTense(in); got != want {
			t.Errorf("IsPastTense(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestPastExample(t *testing.T) {
	for in, want := range map[string]string{"upload": `"uploaded"`, "create": `"created"`, "request_spellcheck": `"spellcheck_requested"`} {
		if got := pastExample(in); got != want {
			t.Errorf("pastExample(%q) = %s, want %s", in, got, want)
		}
	}
}
