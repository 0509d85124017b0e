package report

import (
	"fmt"
	"strings"
	"time"
)

// DeadLetterCause is one cause of dead letters as the report shows it: a
// dead-letter topic's dead letters of one error class, original topic,
// consumer group, event type and owning service, counted by record time
// within the report's week (docs/dlq.md).
type DeadLetterCause struct {
	Topic         string    `json:"topic"`                    // dead-letter topic
	ErrorClass    string    `json:"error_class"`              // normalised exception class and message
	OriginalTopic string    `json:"original_topic,omitempty"` // topic the originals came from
	ConsumerGroup string    `json:"consumer_group,omitempty"` // the group that failed them
	EventType     string    `json:"event_type,omitempty"`     // the originals' event type
	Service       string    `json:"service"`                  // owning service of the originals
	Count         int64     `json:"count"`                    // dead letters in the week
	FirstSeen     time.Time `json:"first_seen"`               // oldest dead letter of the cause (all time)
	LastSeen      time.Time `json:"last_seen"`                // newest
	Trend         string    `json:"trend"`                    // last 24 hours against the 24 before
	Sample        string    `json:"sample,omitempty"`         // newest dead letter: topic/partition@offset and event id
}

// PoisonPill is the record blocking a STALL partition now (docs/dlq.md,
// poison pills).
type PoisonPill struct {
	Group     string    `json:"group"`                // consumer group that is stuck
	Topic     string    `json:"topic"`                // topic
	Partition int32     `json:"partition"`            // stalled partition
	Offset    int64     `json:"offset"`               // the blocking record's offset (the committed offset)
	EventID   string    `json:"event_id,omitempty"`   // its event id
	EventType string    `json:"event_type,omitempty"` // its event type
	Service   string    `json:"source_service"`       // its producer
	Rules     []string  `json:"failing_rules"`        // the rules it breaks
	Since     time.Time `json:"since"`                // stalled at this offset since
}

func mdDeadLetters(p func(string, ...any), r *Weekly) {
	if len(r.DeadLetters) > 0 {
		mdTable(p, "Dead letters by cause", []string{"dead letters", "trend", "error class", "original topic", "group", "event type", "service", "sample"},
			r.DeadLetters, func(c DeadLetterCause) []string {
				return []string{i64(c.Count), c.Trend, mdCell(c.ErrorClass), mdCell(dashed(c.OriginalTopic)), mdCell(dashed(c.ConsumerGroup)),
					mdCell(dashed(c.EventType)), mdCell(c.Service), mdCell(c.Sample)}
			})
	}
	if len(r.PoisonPills) > 0 {
		mdTable(p, "Poison pills (now)", []string{"group", "partition", "offset", "event", "producer", "failing rules", "since"},
			r.PoisonPills, func(pp PoisonPill) []string {
				return []string{mdCell(pp.Group), mdCell(fmt.Sprintf("%s/%d", pp.Topic, pp.Partition)), i64(pp.Offset),
					mdCell(strings.TrimSpace(pp.EventType + " " + pp.EventID)), mdCell(pp.Service), mdCell(rulesOrNone(pp.Rules)),
					pp.Since.UTC().Format(time.RFC3339)}
			})
	}
}

func csvDeadLetters(r *Weekly, row func(string, map[string]string)) {
	for _, c := range r.DeadLetters {
		row("dead_letters", map[string]string{"service": c.Service, "topic": c.Topic, "event_type": c.EventType,
			"violations": i64(c.Count), "trend": c.Trend, "value": c.OriginalTopic, "reference": c.Sample,
			"message": c.ErrorClass, "field": c.ConsumerGroup})
	}
	for _, pp := range r.PoisonPills {
		row("poison_pills", map[string]string{"service": pp.Service, "topic": pp.Topic, "event_type": pp.EventType,
			"value": i64(pp.Offset), "reference": fmt.Sprintf("%s/%d@%d %s", pp.Topic, pp.Partition, pp.Offset, pp.EventID),
			"rule": strings.Join(pp.Rules, " "), "message": pp.Group})
	}
}

func dashed(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func rulesOrNone(rules []string) string {
	if len(rules) == 0 {
		return "none (look at the consumer)"
	}
	return strings.Join(rules, ", ")
}
