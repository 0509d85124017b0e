package report

import (
	"errors"
	"fmt"
	"html/template"
	"reflect"
	"strings"
)

// reportSection is one section of the report's flow-health part, the
// part between the headline (summary, trend, compliance, rules,
// offenders) and the per-service parts, which frame every rendering. It
// says which field of Weekly the section shows, how BuildFor fills it
// from the store, and what the Markdown, CSV and HTML renderings write
// for it; JSON follows Weekly's tags. Each section's descriptor lives in
// the section's own file (deadletters.go is the model).
type reportSection struct {
	Key      string                         // JSON name of the Weekly field it shows (e.g. dead_letters_by_cause); its HTML template is "section/<key>"
	Title    string                         // its row in the section table of docs/reports.md ("| title | meaning |")
	Fill     func(r *Weekly, in buildInput) // fills the field from the store's aggregates; nil when a running instance fills it (internal/api)
	Markdown func(p mdPrinter, r *Weekly)   // writes its Markdown; nothing when the report has no data for it
	CSV      func(r *Weekly, row csvRow)    // writes its CSV rows; noCSVRows when it has none
	HTML     string                         // html/template fragment, executed with the *Weekly
	Funcs    template.FuncMap               // template functions only its fragment uses (names unique in the set)
}

// mdPrinter prints one Markdown line (fmt.Sprintf format and arguments).
type mdPrinter = func(format string, a ...any)

// csvRow writes one CSV row: its section column and its cells by column
// name (csvHeader).
type csvRow = func(section string, cells map[string]string)

// buildInput is what a section's Fill reads: the request and the week's
// data from the store (the current week, within the report's scope).
type buildInput struct {
	q   Request
	cur weekData
}

// wholeEstate reports whether the report is limited to no team or service.
func (in buildInput) wholeEstate() bool { return in.q.Service == "" && in.q.Team == "" }

// reportSections are the sections in report order (HTML and CSV; the
// Markdown moves one, markdownOrder). Adding a section is one line here.
var reportSections = []reportSection{
	dlqSection,
	lagSection,
	propagationSection,
	notesSection,
	catalogDriftSection,
	webSocketsSection,
	flowsSection,
	deadLettersSection,
	poisonPillsSection,
	consumersSection,
}

// sectionsErr is what checkSections finds wrong with reportSections; the
// renderers return it instead of calling a missing writer.
var sectionsErr = checkSections(reportSections)

// noCSVRows is the CSV writer of a section that has no CSV rows (its
// JSON field carries it).
func noCSVRows(*Weekly, csvRow) {}

// checkSections names every piece a section of ss lacks, by section and
// field of reportSection: a Weekly field with its JSON name, a title, a
// Markdown or CSV writer, an HTML fragment.
func checkSections(ss []reportSection) error {
	fields := weeklyJSONNames()
	seen := map[string]bool{}
	var errs []error
	for i, s := range ss {
		name := s.Key
		if name == "" {
			name = fmt.Sprintf("#%d (title %q)", i, s.Title)
		}
		missing := func(what string) {
			errs = append(errs, fmt.Errorf("report section %s: %s (reportSections, %s)", name, what, "registry.go"))
		}
		switch {
		case s.Key == "":
			missing("no Key (the JSON name of its Weekly field)")
		case seen[s.Key]:
			missing("registered twice")
		case !fields[s.Key]:
			missing(fmt.Sprintf("Weekly has no field with JSON name %q (model.go)", s.Key))
		}
		seen[s.Key] = true
		if s.Title == "" {
			missing("no Title (its row in docs/reports.md)")
		}
		if s.Markdown == nil {
			missing("no Markdown writer")
		}
		if s.CSV == nil {
			missing("no CSV writer (noCSVRows when it has no rows)")
		}
		if strings.TrimSpace(s.HTML) == "" {
			missing("no HTML fragment")
		}
	}
	return errors.Join(errs...)
}

// weeklyJSONNames are the JSON names of Weekly's fields.
func weeklyJSONNames() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[Weekly]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}

// keyConsumers and keyCatalogDrift are the sections markdownOrder keeps
// together.
const (
	keyConsumers    = "consumers"
	keyCatalogDrift = "catalog_drift"
)

// markdownOrder is ss in report order, except that the Markdown shows
// "who reads what" right after the catalog drift, where it was before the
// sections became one table (the other formats show it last), so that
// Markdown reports stay byte for byte what they were. New sections take
// their place in the table.
func markdownOrder(ss []reportSection) []reportSection {
	out := make([]reportSection, 0, len(ss))
	var moved []reportSection
	for _, s := range ss {
		if s.Key == keyConsumers {
			moved = append(moved, s)
		}
	}
	for _, s := range ss {
		if s.Key == keyConsumers {
			continue
		}
		out = append(out, s)
		if s.Key == keyCatalogDrift {
			out, moved = append(out, moved...), nil
		}
	}
	return append(out, moved...)
}

// parseHTML is the page template with every section of ss as the
// template "section/<key>" and "sections" calling them in order.
func parseHTML(source string, funcs template.FuncMap, ss []reportSection) (*template.Template, error) {
	all := template.FuncMap{}
	for name, f := range funcs {
		all[name] = f
	}
	for _, s := range ss {
		for name, f := range s.Funcs {
			if _, dup := all[name]; dup {
				return nil, fmt.Errorf("report section %s: template function %q is defined twice", s.Key, name)
			}
			all[name] = f
		}
	}
	t := template.New("report").Funcs(all)
	var calls strings.Builder
	for _, s := range ss {
		if _, err := t.New("section/" + s.Key).Parse(s.HTML); err != nil {
			return nil, fmt.Errorf("report section %s: parse its HTML fragment: %w", s.Key, err)
		}
		fmt.Fprintf(&calls, "{{template %q .}}", "section/"+s.Key)
	}
	if _, err := t.New("sections").Parse(calls.String()); err != nil {
		return nil, fmt.Errorf("parse the report's sections: %w", err)
	}
	if _, err := t.Parse(source); err != nil {
		return nil, fmt.Errorf("parse report.html.tmpl: %w", err)
	}
	return t, nil
}
