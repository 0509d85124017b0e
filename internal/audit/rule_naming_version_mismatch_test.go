package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"testing"
)

func TestRuleVersionMismatch(t *testing.T) {
	p, err := ParsePolicy("versioned.yaml", []byte(`
name: versioned
envelope:
  fields:
    id: {path: event_id}
    type: {path: event_type}
    version: {path: schema_version, type: any}
rules:
  naming:
    type_version: '\.v([0-9]+)$'
  size: {max_bytes: 65536}
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		value string
		fires bool
	}{
		{`{"event_id":"a","event_type":"x.y.z.done.v2","schema_version":2}`, false},
		{`{"event_id":"a","event_type":"x.y.z.done.v2","schema_version":"2.0"}`, false},
		{`{"event_id":"a","event_type":"x.y.z.done.v2"}`, false},
		{`{"event_id":"a","event_type":"x.y.z.done.v2","schema_version":1}`, true},
		{`{"event_id":"a","event_type":"x.y.z.done.v1","schema_version":"v3"}`, true},
	}
	e, err := NewEngine(Options{Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		res := e.Check(&event.Record{Value: []byte(tc.value)})
		v, ok := findViolation(res, "naming.version_mismatch")
		if ok != tc.fires {
			t.Errorf("%s: fired=%v want %v (%+v)", tc.value, ok, tc.fires, res.Violations)
		}
		if ok && v.Field != "schema_version" {
			t.Errorf("field = %q", v.Field)
		}
	}
}
