package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

func TestRuleMissingCorrelation(t *testing.T) {
	runRuleCases(t, "trace.missing_correlation_id", []ruleCase{
		{name: "present", profile: "huleedu", rec: hule(nil)},
		{name: "huleedu null", profile: "huleedu", rec: hule(map[string]string{"correlation_id": "null"}),
			fires: true, field: "correlation_id", msg: "no correlation id: correlation_id is null"},
		{name: "authorworks missing", profile: "authorworks", rec: aw(map[string]string{"meta.correlation_id": "-"}),
			fires: true, field: "meta.correlation_id", msg: "meta.correlation_id is missing"},
		{name: "authorworks empty", profile: "authorworks", rec: aw(map[string]string{"meta.correlation_id": `""`}),
			fires: true, field: "meta.correlation_id", msg: "is empty"},
	})
	e := newTestEngine(t, "huleedu")
	r := hule(map[string]string{"correlation_id": "-"})
	v, _ := findViolation(e.Check(&r), "trace.missing_correlation_id")
	if v.Severity != event.SeverityWarning {
		t.Errorf("huleedu severity = %q, want warning (Optional in §3.1)", v.Severity)
	}
}
