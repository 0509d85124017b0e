package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"testing"
)

func TestRuleVersionMismatch(t *testing.T) {
	p, err := policy.ParsePolicy("versioned.yaml", []byte(`
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

// TestVersionMismatchInBuiltinProfiles: authorworks (version in
// meta.version) fires when the type name names another version; huleedu
// (version only in event_type) has the rule off, as docs/rules.md says.
func TestVersionMismatchInBuiltinProfiles(t *testing.T) {
	aw := func(typ, ver string) string {
		return `{"meta":{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","type":"` + typ + `","version":"` + ver +
			`","timestamp":"2026-11-16T10:00:00Z","source":"user-service","correlation_id":"c"},"data":{"id":"u1"}}`
	}
	for _, tc := range []struct {
		profile, value string
		fires          bool
	}{
		{"authorworks", aw("user.account.created.v2", "1.0"), true},
		{"authorworks", aw("user.account.created.v2", "2.0"), false},
		{"authorworks", aw("user.account.created", "1.0"), false},
		{"huleedu", `{"event_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","event_type":"huleedu.a.b.c_done.v2","event_timestamp":"2026-11-16T10:00:00Z",` +
			`"source_service":"s","schema_version":1,"data":{}}`, false},
	} {
		p, err := policy.LoadProfile(tc.profile)
		if err != nil {
			t.Fatal(err)
		}
		e, err := NewEngine(Options{Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		res := e.Check(&event.Record{Topic: "user.account", Key: []byte("u1"), Value: []byte(tc.value)})
		v, ok := findViolation(res, event.RuleNamingVersionMismatch)
		if ok != tc.fires {
			t.Errorf("%s %s: fired=%v want %v (%+v)", tc.profile, tc.value, ok, tc.fires, res.Violations)
		}
		if ok && (v.Field != "meta.version" || v.Message != `event type "user.account.created.v2" names version 2 but meta.version is "1.0"`) {
			t.Errorf("violation %+v", v)
		}
	}
}
