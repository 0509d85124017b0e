package recordmetrics

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

func TestCountersTopicService(t *testing.T) {
	c := NewCounters(prometheus.NewRegistry(), 10)
	for _, r := range []struct{ topic, source string }{
		{"content.book", "content-service"},
		{"huleedu.dev.essaylifecycle.essay", "essay_lifecycle_service"},
		{"huleedu.dev.essaylifecycle.essay", ""}, // a record without a source keeps the last one
		{"user.account", "user-service"},
		{"user.account", "user-service-v2"}, // the last producer wins
	} {
		c.Observe(&event.Record{Topic: r.topic}, &event.Result{Source: r.source})
	}
	for topic, want := range map[string]string{
		"content.book":                     "content-service",
		"content":                          "content-service", // base of content.deadletter
		"huleedu.dev.essaylifecycle.essay": "essay_lifecycle_service",
		"user.account":                     "user-service-v2",
		"orders":                           "",
		"conte":                            "", // a prefix must end at a dot
	} {
		if got := c.TopicService(topic); got != want {
			t.Errorf("TopicService(%q) = %q, want %q", topic, got, want)
		}
	}
	if got := fmt.Sprint(c.SourceServices()); got != "[content-service essay_lifecycle_service user-service user-service-v2]" {
		t.Errorf("SourceServices = %s", got)
	}
}

func TestCountersCountResults(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := NewCounters(reg, 1)
	warn := event.Violation{Rule: "naming.topic", Severity: event.SeverityWarning}
	errV := event.Violation{Rule: "envelope.missing_field", Severity: event.SeverityError}
	c.Observe(&event.Record{Topic: "t", Value: make([]byte, 300)}, &event.Result{Source: "a"})
	c.Observe(&event.Record{Topic: "t", Value: []byte("{}")}, &event.Result{Source: "a", Violations: []event.Violation{warn}})
	c.Observe(&event.Record{Topic: "t"}, &event.Result{Source: "b", Violations: []event.Violation{errV, warn}})
	c.Observe(&event.Record{Topic: "t"}, &event.Result{Violations: []event.Violation{errV}})
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"eventwatch_records_checked_total", map[string]string{"topic": "t"}, 4},
		{"eventwatch_records_compliant_total", map[string]string{"topic": "t"}, 2},
		{"eventwatch_event_size_bytes", map[string]string{"topic": "t"}, 4},
		{"eventwatch_violations_total", map[string]string{"rule": "naming.topic", "source_service": "a", "severity": "warning", "transport": TransportKafka}, 1},
		{"eventwatch_violations_total", map[string]string{"transport": TransportKafka}, 4},
		{"eventwatch_violations_total", map[string]string{"rule": "naming.topic", "source_service": ServiceOther}, 1},
		{"eventwatch_violations_total", map[string]string{"rule": "envelope.missing_field", "source_service": ServiceOther}, 1},
		{"eventwatch_violations_total", map[string]string{"rule": "envelope.missing_field", "source_service": ServiceUnknown}, 1},
	} {
		if got := metricstest.Value(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

// TestCountViolationIsAnotherTransport: a WebSocket finding is counted in
// eventwatch_violations_total under its rule with transport websocket, the
// endpoint path as topic and its service (outside the source_service bound),
// and is neither a checked record nor a producing service.
func TestCountViolationIsAnotherTransport(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := NewCounters(reg, 1)
	c.Observe(&event.Record{Topic: "t"}, &event.Result{Source: "a", Violations: []event.Violation{{Rule: "naming.event_type", Severity: event.SeverityError}}})
	c.CountViolation(TransportWebSocket, "/v1/presence/ws", "presence", "naming.event_type", event.SeverityError)
	c.CountViolation(TransportWebSocket, "/v1/presence/ws", "presence", "naming.event_type", event.SeverityError)
	c.CountViolation(TransportWebSocket, "/v1/presence/ws", "presence", "websocket.auth_missing", event.SeverityError)
	for _, tc := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"rule": "naming.event_type"}, 3},
		{map[string]string{"rule": "naming.event_type", "transport": TransportWebSocket, "topic": "/v1/presence/ws", "source_service": "presence", "severity": "error"}, 2},
		{map[string]string{"rule": "naming.event_type", "transport": TransportKafka, "topic": "t", "source_service": "a"}, 1},
		{map[string]string{"rule": "websocket.auth_missing", "transport": TransportWebSocket}, 1},
	} {
		if got := metricstest.Value(t, reg, "eventwatch_violations_total", tc.labels); got != tc.want {
			t.Errorf("eventwatch_violations_total%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
	if got := metricstest.Value(t, reg, "eventwatch_records_checked_total", nil); got != 1 {
		t.Errorf("records checked = %v, want 1 (a WebSocket finding is no Kafka record)", got)
	}
	if got := fmt.Sprint(c.SourceServices()); got != "[a]" {
		t.Errorf("SourceServices = %s, want [a] (a WebSocket service is no producer)", got)
	}
}

func TestBoundedLabels(t *testing.T) {
	b := newBoundedLabels(2)
	got := []string{b.value(""), b.value("a"), b.value("b"), b.value("c"), b.value("a"), b.value("b")}
	want := []string{ServiceUnknown, "a", "b", ServiceOther, "a", "b"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("labels = %v, want %v", got, want)
	}
	var wg sync.WaitGroup
	c := newBoundedLabels(10)
	for i := range 100 {
		wg.Go(func() { c.value(fmt.Sprint(i)) })
	}
	wg.Wait()
	if len(c.seen) != 10 {
		t.Fatalf("concurrent use kept %d values, want 10", len(c.seen))
	}
}
