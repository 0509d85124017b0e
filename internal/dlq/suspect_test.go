package dlq

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// TestSuspect: a group's detail is asked for only when one of its topics
// has a STALL partition, whether the topic's (worst) status shows it or
// only its findings do; stopped, erroring or lagging groups are not.
func TestSuspect(t *testing.T) {
	topic := func(status lag.Status, findings ...lag.Status) lag.TopicLag {
		tl := lag.TopicLag{Topic: "t", Status: status}
		for _, f := range findings {
			tl.Findings = append(tl.Findings, lag.StatusFinding{Status: f, Partitions: 1})
		}
		return tl
	}
	tests := []struct {
		name   string
		topics []lag.TopicLag
		want   bool
	}{
		{"stalled topic", []lag.TopicLag{topic(lag.StatusStall, lag.StatusStall)}, true},
		{"stall hidden behind stop", []lag.TopicLag{topic(lag.StatusStop, lag.StatusStop, lag.StatusStall)}, true},
		{"stall on a second topic", []lag.TopicLag{topic(lag.StatusOK), topic(lag.StatusErr, lag.StatusErr, lag.StatusStall)}, true},
		{"only stopped", []lag.TopicLag{topic(lag.StatusStop, lag.StatusStop)}, false},
		{"error and warn", []lag.TopicLag{topic(lag.StatusErr, lag.StatusErr, lag.StatusWarn)}, false},
		{"no topics", nil, false},
	}
	for _, tt := range tests {
		if got := suspect(&lag.GroupLag{Group: "g", Topics: tt.topics}); got != tt.want {
			t.Errorf("%s: suspect = %v, want %v", tt.name, got, tt.want)
		}
	}
}
