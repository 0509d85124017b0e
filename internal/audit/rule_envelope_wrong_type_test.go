package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/policy"
)

func TestRuleWrongType(t *testing.T) {
	runRuleCases(t, "envelope.wrong_type", []ruleCase{
		{name: "compliant", profile: "huleedu", rec: hule(nil)},
		{name: "numeric event id", profile: "huleedu", rec: hule(map[string]string{"event_id": "12345"}),
			fires: true, field: "event_id", msg: "field event_id is a number, want string"},
		{name: "data is a string", profile: "huleedu", rec: hule(map[string]string{"data": `"{\"a\":1}"`}),
			fires: true, field: "data", msg: "field data is a string, want object"},
		{name: "authorworks version number", profile: "authorworks", rec: aw(map[string]string{"meta.version": "1.0"}),
			fires: true, field: "meta.version", msg: "field meta.version is a number, want string"},
		{name: "authorworks meta is array", profile: "authorworks", rec: aw(map[string]string{"meta": "[]"}),
			fires: false},
	})
}

// TestFieldRuleMatches checks the compiled kind mask against kindMatches.
func TestFieldRuleMatches(t *testing.T) {
	for _, typ := range policy.FieldTypes() {
		f := fieldRule{typ: typ, accept: acceptedKinds(typ), intOnly: typ == "integer"}
		for _, k := range []byte{kindString, kindNumber, kindBool, kindObject, kindArray} {
			for _, integral := range []bool{false, true} {
				if got, want := f.matches(k, integral), kindMatches(typ, k, integral); got != want {
					t.Errorf("%s kind %c integral %v: %v, want %v", typ, k, integral, got, want)
				}
			}
		}
	}
}
