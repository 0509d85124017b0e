package audit

import "testing"

func TestRuleMissingField(t *testing.T) {
	runRuleCases(t, "envelope.missing_field", []ruleCase{
		{name: "huleedu complete", profile: "huleedu", rec: hule(nil)},
		{name: "huleedu no event_id", profile: "huleedu", rec: hule(map[string]string{"event_id": "-"}),
			fires: true, field: "event_id", msg: "required field event_id is missing"},
		{name: "huleedu null data", profile: "huleedu", rec: hule(map[string]string{"data": "null"}),
			fires: true, field: "data", msg: "required field data is null"},
		{name: "huleedu empty source_service", profile: "huleedu", rec: hule(map[string]string{"source_service": `""`}),
			fires: true, field: "source_service", msg: "required field source_service is an empty string"},
		{name: "huleedu blank source_service", profile: "huleedu", rec: hule(map[string]string{"source_service": `"  "`}),
			fires: true, field: "source_service", msg: "is an empty string"},
		{name: "huleedu correlation optional", profile: "huleedu", rec: hule(map[string]string{"correlation_id": "null"})},
		{name: "authorworks no meta.version", profile: "authorworks", rec: aw(map[string]string{"meta.version": "-"}),
			fires: true, field: "meta.version", msg: "required field meta.version is missing"},
		{name: "authorworks no meta at all", profile: "authorworks", rec: aw(map[string]string{"meta": "-"}),
			fires: true, field: "meta.id", msg: "meta.id is missing"},
	})
}
