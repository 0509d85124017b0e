package report

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// consumersSection is "Who reads what": filled by a running instance
// (internal/api, WithConsumers) for the week in progress of a
// whole-estate report.
var consumersSection = reportSection{Key: keyConsumers, Title: "who reads what", Markdown: mdConsumers, CSV: noCSVRows,
	HTML: consumersHTML, Funcs: template.FuncMap{
		"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") }, // not_idempotent -> not idempotent, as in Markdown
	}}

const consumersHTML = `{{with .Consumers}}
<h3>Who reads what</h3>
<p>Per event type and version, who produces it and which consumer groups read it now, and whether the version can be retired (<code>eventwatch catalog versions</code>).</p>
<table><thead><tr><th scope="col">event type</th><th scope="col">version</th><th scope="col">producers (last seen)</th><th scope="col">readers (last read)</th><th scope="col">retirement</th></tr></thead>
<tbody>{{range .Types}}<tr><td>{{wrap .Type}}</td><td>{{wrap .Version}}</td><td>{{range $i, $p := .Producers}}{{if $i}}, {{end}}{{wrap $p.Name}} ({{stamp $p.Last}}){{end}}</td><td>{{range $i, $p := .Readers}}{{if $i}}, {{end}}{{wrap $p.Name}} ({{stamp $p.Last}}{{if $p.Behind}}, {{$p.Behind}} unread{{end}}){{else}}none{{end}}</td><td>{{wrap .Verdict}}</td></tr>{{end}}</tbody></table>
<h3>Consumer idempotency</h3>
{{if .Idempotency}}<table><thead><tr><th scope="col">consumer group</th><th scope="col">event type</th><th scope="col">verdict</th><th scope="col" class="num">redelivered inputs</th><th scope="col" class="num">duplicated effects</th></tr></thead>
<tbody>{{range .Idempotency}}<tr><td>{{wrap .Group}}</td><td>{{wrap .Type}}</td><td>{{words .Verdict}}</td><td class="num">{{.Redelivered}}</td><td class="num">{{.Duplicated}}</td></tr>{{end}}</tbody></table>
{{range .Idempotency}}{{if .Example}}<p><strong>consumer.not_idempotent</strong>: {{.Example}}</p>{{end}}{{end}}{{else}}<p class="none">No consumer group read a type yet.</p>{{end}}{{end}}`

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

func mdConsumers(p mdPrinter, r *Weekly) {
	c := r.Consumers
	if c == nil {
		return
	}
	loc := r.From.Location()
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
