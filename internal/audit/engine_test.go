package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"reflect"
	"testing"
	"time"
)

func TestCheckCompliantEvents(t *testing.T) {
	cases := []struct {
		profile string
		rec     event.Record
	}{
		{"huleedu", event.Record{Topic: "huleedu.dev.essaylifecycle.essay", Value: huleEvent(nil)}},
		{"authorworks", event.Record{Topic: "content", Key: []byte("bk-1001"), Value: awEvent(nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			e := newTestEngine(t, tc.profile)
			res := e.Check(&tc.rec)
			if len(res.Violations) != 0 {
				t.Fatalf("violations on a compliant event: %+v", res.Violations)
			}
			if !res.Compliant() {
				t.Fatal("Compliant() = false")
			}
		})
	}
}

func TestCheckFillsResult(t *testing.T) {
	e := newTestEngine(t, "authorworks")
	res := e.Check(&event.Record{Topic: "content", Key: []byte("k"), Value: awEvent(nil)})
	want := event.Result{
		EventID: "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", EventType: "content.book.published", Version: "1.0",
		Source: "content-service", CorrelationID: "req-7f3a9c", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		SpanID: "00f067aa0ba902b7", EventTime: time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC), Size: len(awEvent(nil)), Profile: "authorworks",
	}
	if ic := res.IDCheck; ic.Hash == 0 || ic.Loc == 0 || ic.At.IsZero() || ic.Severity != event.SeverityWarning || ic.Field != "meta.id" || ic.Flagged {
		t.Fatalf("id check not filled: %+v", ic)
	}
	res.IDCheck = event.IDCheck{}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("result\n got %+v\nwant %+v", res, want)
	}

	h := newTestEngine(t, "huleedu")
	res = h.Check(&event.Record{Value: huleEvent(nil)})
	if res.EventType != "huleedu.essaylifecycle.essay.spellcheck_requested.v1" || res.Version != "1" ||
		res.Source != "essay_lifecycle_service" || res.EventID == "" || res.CorrelationID == "" || res.EventTime.IsZero() {
		t.Fatalf("huleedu result not filled: %+v", res)
	}
}
