package trace

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"strings"
	"testing"
)

func TestParseTraceparent(t *testing.T) {
	cases := []struct {
		in      string
		ok      bool
		sampled bool
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true, true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true, false},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra", true, true}, // a future version may append fields
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", false, false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", false, false}, // version 00 is exactly 55 characters
		{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false, false},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false, false}, // uppercase is invalid
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false, false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false, false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", false, false},
		{"00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", false, false},
		{"", false, false},
	}
	for _, tc := range cases {
		got, err := ParseTraceparent(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseTraceparent(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && (got.TraceID.String() != tc.in[3:35] || got.SpanID.String() != tc.in[36:52] || got.Sampled != tc.sampled) {
			t.Errorf("ParseTraceparent(%q) = %+v", tc.in, got)
		}
	}
}

func FuzzParseTraceparent(f *testing.F) {
	for _, s := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-0000000000000000-00",
		"", "00-", strings.Repeat("-", 60),
	} {
		f.Add(s)
	}
	// Invariant: never panics; a parsed value has valid ids, lowercase hex
	// fields, and re-formats to the same trace id, span id and sampled flag.
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := ParseTraceparent(s)
		if err != nil {
			return
		}
		if !tp.TraceID.IsValid() || !tp.SpanID.IsValid() {
			t.Fatalf("%q parsed with an invalid id: %+v", s, tp)
		}
		if s[3:35] != tp.TraceID.String() || s[36:52] != tp.SpanID.String() {
			t.Fatalf("%q parsed to %+v", s, tp)
		}
		again, err := ParseTraceparent(tp.String())
		if err != nil || again.TraceID != tp.TraceID || again.SpanID != tp.SpanID || again.Sampled != tp.Sampled {
			t.Fatalf("%q: round trip of %q gave %+v, %v", s, tp.String(), again, err)
		}
	})
}

func TestResolvePrecedence(t *testing.T) {
	header := []event.Header{{Key: "traceparent", Value: []byte(tp(traceA, spanA1))}}
	bad := []event.Header{{Key: "traceparent", Value: []byte("00-zz-zz-01")}}
	cases := []struct {
		name    string
		headers []event.Header
		res     event.Result
		origin  Origin
		trace   string
		span    string
		derived bool
	}{
		{"header wins over envelope", header, event.Result{TraceID: traceB, SpanID: spanA2, CorrelationID: "c"}, OriginTraceparent, traceA, spanA1, false},
		{"invalid header falls back to envelope", bad, event.Result{TraceID: traceB, SpanID: spanA2, CorrelationID: "c"}, OriginEnvelope, traceB, spanA2, false},
		{"envelope with a non-hex trace id is hashed", nil, event.Result{TraceID: "distributed-tracing-identifier", SpanID: "span-identifier"}, OriginEnvelope,
			hashTraceID(envelopePrefix, "distributed-tracing-identifier").String(), "0000000000000000", true},
		{"correlation only", nil, event.Result{CorrelationID: "req-1"}, OriginCorrelation, CorrelationTraceID("req-1").String(), "0000000000000000", true},
		{"nothing", nil, event.Result{}, OriginNone, "00000000000000000000000000000000", "0000000000000000", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &event.Record{Headers: tc.headers}
			if v, ok := rec.Header("traceparent"); ok {
				tc.res.Traceparent = event.ParseTraceparent(v) // the audit engine's one parse
			}
			c := Resolve(&tc.res)
			if c.Origin != tc.origin || c.TraceID.String() != tc.trace || c.SpanID.String() != tc.span || c.Derived != tc.derived {
				t.Errorf("Resolve = %+v (trace %s span %s), want %s %s %s derived=%v", c, c.TraceID, c.SpanID, tc.origin, tc.trace, tc.span, tc.derived)
			}
		})
	}
}

func TestCorrelationTraceIDIsStable(t *testing.T) {
	a, b := CorrelationTraceID("req-1"), CorrelationTraceID("req-1")
	if a != b || !a.IsValid() || a == CorrelationTraceID("req-2") {
		t.Errorf("derived trace ids: %s %s", a, b)
	}
	// Pinned (from `printf %s 'eventwatch/correlation/<id>' | sha256sum`):
	// replicas, restarts and releases must agree on the id.
	if got := CorrelationTraceID("11111111-2222-4333-8444-555555555555").String(); got != "47529442655b3a8916232ddc16c06ed3" {
		t.Errorf("derived id = %s, want 47529442655b3a8916232ddc16c06ed3", got)
	}
}
