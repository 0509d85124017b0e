package audit

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// TestDeadLetterIdentity: a dead letter belongs to the service of its
// original — the wrapped original's envelope, else the record's own
// envelope (an as-is original, as Spring Kafka and Kafka Connect write
// them), else the service the topic's name gives (service.deadletter,
// through Options.DLQService).
func TestDeadLetterIdentity(t *testing.T) {
	const orig = `{"meta":{"id":"0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71","type":"content.book.published","version":"1.0","timestamp":"2026-03-01T12:00:00Z","source":"content-service"},"data":{"book_id":"b-1"}}`
	const hule = `{"event_id":"3f1c2a9e-8a51-4d3b-9a53-1d2f0b7c6e11","event_type":"huleedu.essaylifecycle.essay.spellcheck_requested.v1","event_timestamp":"2026-01-05T10:00:00Z","source_service":"essay_lifecycle_service","data":{}}`
	const origNoSource = `{"meta":{"id":"0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71","type":"content.book.published"},"data":{}}`
	tests := []struct {
		name, profile, topic, value string
		headers                     []event.Header
		owner                       func(string) string
		wantSource, wantID          string
	}{
		{"wrapped original", "authorworks", "content.deadletter",
			`{"original_event":` + orig + `,"error":{"message":"boom"},"meta":{"source":"search-indexer"}}`, nil, nil,
			"content-service", "0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71"},
		{"wrapped as a string", "authorworks", "content.deadletter",
			`{"original_event":` + quote(orig) + `,"error":"boom"}`, nil, nil, "content-service", "0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71"},
		{"as-is, authorworks (missing_error_context)", "authorworks", "content.deadletter", orig, nil, nil,
			"content-service", "0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71"},
		{"as-is with Spring headers", "huleedu", "orders.dlq", hule,
			[]event.Header{{Key: "kafka_dlt-exception-fqcn", Value: []byte("java.lang.IllegalStateException")}}, nil,
			"essay_lifecycle_service", "3f1c2a9e-8a51-4d3b-9a53-1d2f0b7c6e11"},
		{"as-is with Connect headers", "huleedu", "orders.dlq", hule,
			[]event.Header{{Key: "__connect.errors.topic", Value: []byte("orders")}}, nil, "essay_lifecycle_service", "3f1c2a9e-8a51-4d3b-9a53-1d2f0b7c6e11"},
		{"original without source: topic naming", "authorworks", "content.deadletter",
			`{"original_event":` + origNoSource + `,"error":"x"}`, nil, nil, "content", "0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71"},
		{"not JSON: topic naming through the resolver", "authorworks", "content.deadletter", "\x00\x01binary", nil,
			func(b string) string { return b + "-service" }, "content-service", ""},
		{"dotted base is a topic, not a service", "huleedu", "huleedu.dev.essay.entity.dlq", "not json", nil, nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, tc.profile, func(o *Options) { o.DLQService = tc.owner })
			res := e.Check(&event.Record{Topic: tc.topic, Value: []byte(tc.value), Headers: tc.headers, Key: []byte("b-1")})
			if res.Source != tc.wantSource || res.EventID != tc.wantID {
				t.Errorf("source, id = %q, %q; want %q, %q", res.Source, res.EventID, tc.wantSource, tc.wantID)
			}
		})
	}
}

func quote(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}

func TestDLQBase(t *testing.T) {
	p, err := policy.LoadProfile("huleedu")
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{"content.deadletter": "content", "orders-dlq": "orders", "a.b.DLQ": "a.b", "orders": ""} {
		if got := p.DLQBase(topic); got != want {
			t.Errorf("DLQBase(%q) = %q, want %q", topic, got, want)
		}
	}
}

// TestDeadLetterFlag: Result.DeadLetter marks a dead-letter copy — a
// record on a dead-letter topic, or one carrying Spring Kafka's kafka_dlt-*
// or Kafka Connect's __connect.errors.* headers whatever its topic is
// called (Spring's ".DLT" and "-dlt" are in huleedu's patterns, not in
// authorworks', whose are "*.deadletter") — and
// nothing else, so that stitching, readers and discovery never take a copy
// for a new event.
func TestDeadLetterFlag(t *testing.T) {
	const hule = `{"event_id":"3f1c2a9e-8a51-4d3b-9a53-1d2f0b7c6e11","event_type":"huleedu.essaylifecycle.essay.spellcheck_requested.v1","event_timestamp":"2026-01-05T10:00:00Z","source_service":"essay_lifecycle_service","data":{}}`
	for _, tc := range []struct {
		name, topic string
		headers     []event.Header
		want        bool
	}{
		{"an event", "huleedu.dev.essay", []event.Header{{Key: "traceparent", Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")}}, false},
		{"on a dead-letter topic", "huleedu.dev.essay.dlq", nil, true},
		{"Spring headers on a .DLT topic", "huleedu.dev.essay.DLT", []event.Header{{Key: "kafka_dlt-original-topic", Value: []byte("huleedu.dev.essay")}}, true},
		{"Connect headers", "connect-errors", []event.Header{{Key: "__connect.errors.topic", Value: []byte("huleedu.dev.essay")}}, true},
		{"a look-alike header", "huleedu.dev.essay", []event.Header{{Key: "kafka_dlt", Value: []byte("x")}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, "huleedu")
			res := e.Check(&event.Record{Topic: tc.topic, Value: []byte(hule), Headers: tc.headers})
			if res.DeadLetter != tc.want || res.EventID == "" {
				t.Errorf("DeadLetter = %t (id %q), want %t", res.DeadLetter, res.EventID, tc.want)
			}
		})
	}
}
