package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// Note is one thing the week's numbers do not show on their own: a range
// of records eventwatch skipped or read again instead of counting it in
// order (docs/reports.md, "What is not counted").
type Note struct {
	Kind       string    `json:"kind"`                // store.NoteHistorySkipped, store.NoteBeyondEnd or store.NoteBelowStart
	At         time.Time `json:"at"`                  // when eventwatch noticed (the first, for an aggregated note)
	Topic      string    `json:"topic,omitempty"`     // topic; empty for the aggregated history note
	Partition  *int32    `json:"partition,omitempty"` // partition; null for the aggregated history note
	Partitions int       `json:"partitions"`          // partitions the note covers
	From       int64     `json:"from"`                // the position before (per partition notes only)
	To         int64     `json:"to"`                  // the position after (per partition notes only)
	Records    int64     `json:"records"`             // records never audited because of it
	Message    string    `json:"message"`             // what happened, in a sentence
}

// notesOf turns the week's stored position notes into report notes: one
// line for the history start_from skipped (whatever the number of
// partitions), one per partition whose stored position did not match the
// log.
func notesOf(ns []store.PositionNote, loc *time.Location) []Note {
	var out []Note
	var hist *Note
	for _, n := range ns {
		if n.Kind == store.NoteHistorySkipped {
			if hist == nil {
				hist = &Note{Kind: n.Kind, At: n.At.In(loc)}
			}
			hist.Partitions++
			hist.Records += n.Records
			continue
		}
		p := n.Partition
		out = append(out, Note{Kind: n.Kind, At: n.At.In(loc), Topic: n.Topic, Partition: &p, Partitions: 1,
			From: n.From, To: n.To, Records: n.Records, Message: mismatchText(n)})
	}
	if hist != nil {
		hist.Message = fmt.Sprintf("eventwatch started watching: %d records produced before its first start, on %d partitions, were not audited (sample.start_from)",
			hist.Records, hist.Partitions)
		out = append([]Note{*hist}, out...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func mismatchText(n store.PositionNote) string {
	what := "below the partition's log start (retention deleted records before they were read)"
	if n.Kind == store.NoteBeyondEnd {
		what = "beyond the partition's end (the topic was deleted and recreated, or the cluster replaced)"
	}
	text := fmt.Sprintf("%s/%d: the stored position %d was %s; reading resumed at %d", n.Topic, n.Partition, n.From, what, n.To)
	if n.Records > 0 {
		text += fmt.Sprintf(", %d records were not audited", n.Records)
	}
	return text
}

// notesSection is "Not counted in order": the week's position notes,
// whole-estate reports only.
var notesSection = reportSection{Key: "notes", Title: "not counted in order", Fill: fillNotes,
	Markdown: mdNotes, CSV: noCSVRows, HTML: notesHTML}

const notesHTML = `{{if .Notes}}
<h3>Not counted in order</h3>
<p>Ranges of records eventwatch skipped or read again instead of counting them in order.</p>
<table><thead><tr><th scope="col">when</th><th scope="col">what happened</th><th scope="col" class="num">records not audited</th></tr></thead>
<tbody>{{range .Notes}}<tr><td>{{.At.Format "2006-01-02 15:04"}}</td><td>{{wrap .Message}}</td><td class="num">{{.Records}}</td></tr>{{end}}</tbody></table>{{end}}`

// fillNotes fills the notes of a whole-estate report from the store.
func fillNotes(r *Weekly, in buildInput) {
	if in.wholeEstate() {
		r.Notes = notesOf(in.cur.notes, in.q.Loc)
	}
}

func mdNotes(p mdPrinter, r *Weekly) {
	if len(r.Notes) > 0 {
		mdTable(p, "Not counted in order", []string{"when", "what happened", "records not audited"}, r.Notes, func(n Note) []string {
			return []string{n.At.Format("2006-01-02 15:04"), n.Message, i64(n.Records)}
		})
	}
}
