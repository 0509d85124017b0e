package report

import (
	"fmt"
	"strings"
	"time"
)

// Consumers is the "who reads what" section of a whole-estate report of
// the week in progress (internal/readers, GET /api/v1/types): per event
// type and version its producers and readers with when each was last seen
// and the retirement verdict, and per consumer group and type whether it
// was seen to be idempotent.
type Consumers struct {
	Types       []TypeReaders    `json:"types"`
	Idempotency []IdempotencyRow `json:"idempotency"`
}

// TypeReaders is one event type and version.
type TypeReaders struct {
	Type      string     `json:"type"`
	Version   string     `json:"version"`
	Producers []LastSeen `json:"producers"` // services, with when each last produced it
	Readers   []LastSeen `json:"readers"`   // consumer groups, with when each last read it and how many of its events it has not read
	Retirable bool       `json:"retirable"`
	Verdict   string     `json:"verdict"`
}

// LastSeen is a producer or reader and when it was last seen.
type LastSeen struct {
	Name   string    `json:"name"`
	Last   time.Time `json:"last"`
	Behind int64     `json:"behind,omitempty"` // readers: events of the type not read yet
}

// IdempotencyRow is the verdict on one consumer group and event type.
type IdempotencyRow struct {
	Group       string `json:"group"`
	Type        string `json:"event_type"`
	Verdict     string `json:"verdict"` // not_idempotent, idempotent, not_observable
	Redelivered int64  `json:"redelivered"`
	Duplicated  int64  `json:"duplicated"`
	Example     string `json:"example,omitempty"` // the finding, for a group that is not idempotent
}

// seenText is "name (last 2026-11-23 10:00 UTC)" for each.
func seenText(list []LastSeen, loc *time.Location) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = s.Name + " (" + s.Last.In(loc).Format("2006-01-02 15:04") + ")"
		if s.Behind > 0 {
			parts[i] = fmt.Sprintf("%s (%s, %d unread)", s.Name, s.Last.In(loc).Format("2006-01-02 15:04"), s.Behind)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func mdConsumers(p func(string, ...any), r *Weekly, loc *time.Location) {
	c := r.Consumers
	if c == nil {
		return
	}
	mdTable(p, "Who reads what (now)", []string{"event type", "version", "producers (last seen)", "readers (last read)", "retirement"}, c.Types, func(t TypeReaders) []string {
		return []string{t.Type, t.Version, seenText(t.Producers, loc), seenText(t.Readers, loc), t.Verdict}
	})
	mdTable(p, "Consumer idempotency", []string{"consumer group", "event type", "verdict", "redelivered inputs", "duplicated effects"}, c.Idempotency, func(x IdempotencyRow) []string {
		return []string{x.Group, x.Type, strings.ReplaceAll(x.Verdict, "_", " "), i64(x.Redelivered), i64(x.Duplicated)}
	})
	for _, x := range c.Idempotency {
		if x.Example != "" {
			p("- **consumer.not_idempotent**: %s\n", mdCell(x.Example))
		}
	}
	p("")
}
