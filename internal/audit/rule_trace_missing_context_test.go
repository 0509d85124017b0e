package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

func TestRuleMissingContext(t *testing.T) {
	noCtx := aw(map[string]string{"meta.trace_context": "-"})
	withHeader := func(r event.Record, v string) event.Record {
		r.Headers = []event.Header{{Key: "traceparent", Value: []byte(v)}}
		return r
	}
	runRuleCases(t, "trace.missing_context", []ruleCase{
		{name: "envelope context", profile: "authorworks", rec: aw(nil)},
		{name: "none", profile: "authorworks", rec: noCtx,
			fires: true, field: "meta.trace_context.trace_id", msg: "meta.trace_context.trace_id is missing and there is no traceparent header"},
		{name: "valid traceparent", profile: "authorworks",
			rec: withHeader(noCtx, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")},
		{name: "malformed traceparent", profile: "authorworks", rec: withHeader(noCtx, "00-xyz-01"),
			fires: true, field: "meta.trace_context.trace_id", msg: `the traceparent header "00-xyz-01" is not valid`},
		{name: "zero trace id", profile: "authorworks",
			rec: withHeader(noCtx, "00-00000000000000000000000000000000-00f067aa0ba902b7-01"), fires: true, field: "meta.trace_context.trace_id"},
		{name: "huleedu does not require it", profile: "huleedu", rec: hule(nil)},
	})
}

func TestCheckTraceFromHeader(t *testing.T) {
	e := newTestEngine(t, "huleedu")
	r := hule(nil)
	r.Headers = []event.Header{{Key: "traceparent", Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")}}
	res := e.Check(&r)
	if res.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || res.SpanID != "00f067aa0ba902b7" {
		t.Fatalf("trace ids from header: %q %q", res.TraceID, res.SpanID)
	}
}

func TestParseTraceparent(t *testing.T) {
	cases := map[string]bool{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":       true,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra": true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra": false,
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":       false,
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01":       false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01":       false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7":          false,
		"": false,
	}
	for in, want := range cases {
		if ok := event.ParseTraceparent([]byte(in)).Valid; ok != want {
			t.Errorf("ParseTraceparent(%q) ok=%v, want %v", in, ok, want)
		}
	}
}
