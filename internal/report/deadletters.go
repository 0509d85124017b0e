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

// deadLettersSection is "Dead letters by cause", poisonPillsSection
// "Poison pills (now)": both filled by a running instance (internal/api,
// WithDeadLetters) from its dead-letter triage.
var (
	deadLettersSection = reportSection{Key: "dead_letters_by_cause", Title: "dead letters by cause",
		Markdown: mdDeadLetters, CSV: csvDeadLetters, HTML: deadLettersHTML}
	poisonPillsSection = reportSection{Key: "poison_pills", Title: "poison pills (now)",
		Markdown: mdPoisonPills, CSV: csvPoisonPills, HTML: poisonPillsHTML}
)

const deadLettersHTML = `{{if .DeadLetters}}
<h3>Dead letters by cause</h3>
<p>Dead letters of the week by error class, original topic, consumer group, event type and owning service (<code>eventwatch dlq list</code>).</p>
<table><thead><tr><th scope="col" class="num">dead letters</th><th scope="col">trend</th><th scope="col">error class</th><th scope="col">original topic</th><th scope="col">group</th><th scope="col">event type</th><th scope="col">service</th><th scope="col">sample</th></tr></thead>
<tbody>{{range .DeadLetters}}<tr><td class="num">{{.Count}}</td><td>{{.Trend}}</td><td>{{wrap .ErrorClass}}</td><td>{{wrap .OriginalTopic}}</td><td>{{wrap .ConsumerGroup}}</td><td>{{wrap .EventType}}</td><td>{{wrap .Service}}</td><td>{{wrap .Sample}}</td></tr>{{end}}</tbody></table>{{end}}`

const poisonPillsHTML = `{{if .PoisonPills}}
<h3>Poison pills (now)</h3>
<p>The record at the committed offset of each stalled partition, audited with its topic's profile.</p>
<table><thead><tr><th scope="col">group</th><th scope="col">partition</th><th scope="col" class="num">offset</th><th scope="col">event</th><th scope="col">producer</th><th scope="col">failing rules</th></tr></thead>
<tbody>{{range .PoisonPills}}<tr><td>{{wrap .Group}}</td><td>{{wrap .Topic}}/{{.Partition}}</td><td class="num">{{.Offset}}</td><td>{{wrap .EventType}} {{wrap .EventID}}</td><td>{{wrap .Service}}</td><td>{{range $i, $r := .Rules}}{{if $i}}, {{end}}{{wrap $r}}{{end}}</td></tr>{{end}}</tbody></table>{{end}}`

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

func mdDeadLetters(p mdPrinter, r *Weekly) {
	if len(r.DeadLetters) > 0 {
		mdTable(p, "Dead letters by cause", []string{"dead letters", "trend", "error class", "original topic", "group", "event type", "service", "sample"},
			r.DeadLetters, func(c DeadLetterCause) []string {
				return []string{i64(c.Count), c.Trend, mdCell(c.ErrorClass), mdCell(dashed(c.OriginalTopic)), mdCell(dashed(c.ConsumerGroup)),
					mdCell(dashed(c.EventType)), mdCell(c.Service), mdCell(c.Sample)}
			})
	}
}

func mdPoisonPills(p mdPrinter, r *Weekly) {
	if len(r.PoisonPills) > 0 {
		mdTable(p, "Poison pills (now)", []string{"group", "partition", "offset", "event", "producer", "failing rules", "since"},
			r.PoisonPills, func(pp PoisonPill) []string {
				return []string{mdCell(pp.Group), mdCell(fmt.Sprintf("%s/%d", pp.Topic, pp.Partition)), i64(pp.Offset),
					mdCell(strings.TrimSpace(pp.EventType + " " + pp.EventID)), mdCell(pp.Service), mdCell(rulesOrNone(pp.Rules)),
					pp.Since.UTC().Format(time.RFC3339)}
			})
	}
}

func csvDeadLetters(r *Weekly, row csvRow) {
	for _, c := range r.DeadLetters {
		row("dead_letters", map[string]string{"service": c.Service, "topic": c.Topic, "event_type": c.EventType,
			"violations": i64(c.Count), "trend": c.Trend, "value": c.OriginalTopic, "reference": c.Sample,
			"message": c.ErrorClass, "field": c.ConsumerGroup})
	}
}

func csvPoisonPills(r *Weekly, row csvRow) {
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
