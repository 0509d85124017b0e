package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

func TestRuleDLQContext(t *testing.T) {
	orig := string(awEvent(nil))
	dlq := func(v string, headers ...event.Header) event.Record {
		return event.Record{Topic: "content.deadletter", Key: []byte("bk-1001"), Value: []byte(v), Headers: headers}
	}
	runRuleCases(t, "dlq.missing_error_context", []ruleCase{
		{name: "wrapped", profile: "authorworks", rec: dlq(`{"original_event":` + orig + `,"error":{"message":"schema validation failed","consumer":"search-service"}}`)},
		{name: "wrapped as string", profile: "authorworks", rec: dlq(`{"original":` + quoteJSON(orig) + `,"error_context":"timeout"}`)},
		{name: "raw event", profile: "authorworks", rec: dlq(orig),
			fires: true, msg: `dead-letter record on "content.deadletter" does not wrap the original event (no object field original_event, original, event)`},
		{name: "no error", profile: "authorworks", rec: dlq(`{"original_event":` + orig + `}`),
			fires: true, msg: "has no error context (no field error, error_context)"},
		{name: "null error", profile: "authorworks", rec: dlq(`{"original_event":` + orig + `,"error":null}`), fires: true},
		{name: "huleedu error header", profile: "huleedu",
			rec: event.Record{Topic: "huleedu.dev.essaylifecycle.essay.dlq", Value: []byte(`{"original_event":` + string(huleEvent(nil)) + `}`),
				Headers: []event.Header{{Key: "kafka_dlt-exception-message", Value: []byte("boom")}}}},
		// Spring Kafka's DeadLetterPublishingRecoverer republishes the original
		// value as is and puts the error in kafka_dlt-exception-* headers.
		{name: "huleedu spring dead letter", profile: "huleedu",
			rec: event.Record{Topic: "huleedu.dev.essaylifecycle.essay.dlq", Value: huleEvent(nil), Headers: []event.Header{
				{Key: "kafka_dlt-exception-fqcn", Value: []byte("java.lang.IllegalStateException")},
				{Key: "kafka_dlt-exception-message", Value: []byte("boom")}}}},
		// Kafka Connect's errors.deadletterqueue.context.headers.enable.
		{name: "huleedu connect dead letter", profile: "huleedu",
			rec: event.Record{Topic: "huleedu.dev.essaylifecycle.essay.dlq", Value: huleEvent(nil), Headers: []event.Header{
				{Key: "__connect.errors.topic", Value: []byte("huleedu.dev.essaylifecycle.essay.v1")},
				{Key: "__connect.errors.exception.class.name", Value: []byte("org.apache.kafka.connect.errors.DataException")}}}},
		{name: "huleedu raw value without headers", profile: "huleedu",
			rec: event.Record{Topic: "huleedu.dev.essaylifecycle.essay.dlq", Value: huleEvent(nil)}, fires: true, msg: "does not wrap the original event"},
		// AuthorWorks requires the wrapper: headers alone are not enough.
		{name: "authorworks spring headers without wrapper", profile: "authorworks",
			rec: dlq(orig, event.Header{Key: "kafka_dlt-exception-message", Value: []byte("boom")}), fires: true, msg: "does not wrap the original event"},
	})
}

func TestCheckDLQResultIsTheOriginal(t *testing.T) {
	e := newTestEngine(t, "authorworks")
	rec := event.Record{Topic: "content.deadletter", Key: []byte("k"),
		Value: []byte(`{"original_event":` + string(awEvent(nil)) + `,"error":{"message":"x"}}`)}
	res := e.Check(&rec)
	if res.EventID != "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f" || res.EventType != "content.book.published" || res.TraceID == "" {
		t.Fatalf("DLQ result should carry the original's identity: %+v", res)
	}
	if len(res.Violations) != 0 {
		t.Fatalf("violations: %+v", res.Violations)
	}
	if _, ok := findViolation(e.Check(&rec), "duplicate.event_id"); ok {
		t.Fatal("a dead-letter copy is not a duplicate event")
	}
}

func quoteJSON(s string) string {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}
