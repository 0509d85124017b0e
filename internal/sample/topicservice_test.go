package sample

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/audit"
)

func TestTopicService(t *testing.T) {
	m := newSamplerMetrics(prometheus.NewRegistry(), 10)
	for _, r := range []struct{ topic, source string }{
		{"content.book", "content-service"},
		{"huleedu.dev.essaylifecycle.essay", "essay_lifecycle_service"},
		{"huleedu.dev.essaylifecycle.essay", ""}, // a record without a source keeps the last one
		{"user.account", "user-service"},
		{"user.account", "user-service-v2"}, // the last producer wins
	} {
		m.record(&audit.Record{Topic: r.topic}, &audit.Result{Source: r.source})
	}
	for topic, want := range map[string]string{
		"content.book":                     "content-service",
		"content":                          "content-service", // base of content.deadletter
		"huleedu.dev.essaylifecycle.essay": "essay_lifecycle_service",
		"user.account":                     "user-service-v2",
		"orders":                           "",
		"conte":                            "", // a prefix must end at a dot
	} {
		if got := m.topicService(topic); got != want {
			t.Errorf("topicService(%q) = %q, want %q", topic, got, want)
		}
	}
}
