package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"strings"
	"testing"
)

func TestRuleTooLarge(t *testing.T) {
	big := `{"refs":[` + strings.TrimSuffix(strings.Repeat(`"s3://essays/42/part.txt",`, 1500), ",") + `]}`
	runRuleCases(t, "size.event_too_large", []ruleCase{
		{name: "thin", profile: "huleedu", rec: hule(nil)},
		{name: "fat", profile: "huleedu", rec: hule(map[string]string{"data": big}), fires: true, msg: "above the 32768-byte limit"},
		{name: "authorworks allows more", profile: "authorworks", rec: aw(map[string]string{"data": big})},
	})
}

func TestRuleTooLargePerTypeAndTopic(t *testing.T) {
	p, err := policy.ParsePolicy("p.yaml", []byte(`
name: sized
envelope:
  fields:
    id: {path: id}
    type: {path: type}
rules:
  size:
    max_bytes: 100
    per_type: {"big.thing.happened": 1000}
topics:
  - match: "bulk.*"
    max_bytes: 500
`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(Options{Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 300)
	cases := []struct {
		topic, typ string
		fires      bool
	}{
		{"a", "small.thing.happened", true},
		{"a", "big.thing.happened", false},
		{"bulk.load", "small.thing.happened", false},
	}
	for _, tc := range cases {
		v := `{"id":"1","type":"` + tc.typ + `","pad":"` + pad + `"}`
		_, ok := findViolation(e.Check(&event.Record{Topic: tc.topic, Value: []byte(v)}), "size.event_too_large")
		if ok != tc.fires {
			t.Errorf("%s/%s: fired=%v want %v", tc.topic, tc.typ, ok, tc.fires)
		}
	}
}
