package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is one rendering of a report: its name (the ?format= value and
// --format flag), its content type and its renderer. Every message that
// lists the formats is built from Formats.
type Format struct {
	Name        string                         // json, csv, md or html
	ContentType string                         // HTTP Content-Type
	Render      func(io.Writer, *Weekly) error // writes the report
}

// Formats is the table of report renderings, in the order messages list
// them.
var Formats = []Format{
	{Name: "json", ContentType: "application/json", Render: renderJSON},
	{Name: "csv", ContentType: "text/csv; charset=utf-8", Render: renderCSV},
	{Name: "md", ContentType: "text/markdown; charset=utf-8", Render: renderMarkdown},
	{Name: "html", ContentType: "text/html; charset=utf-8", Render: renderHTML},
}

// LookupFormat returns the format called name.
func LookupFormat(name string) (Format, bool) {
	for _, f := range Formats {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// FormatNames lists the format names for messages: "json, csv, md or html".
func FormatNames() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = f.Name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// FormatChoices lists them for usage lines: "json|csv|md|html".
func FormatChoices() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = f.Name
	}
	return strings.Join(names, "|")
}

// Render writes r in the format called name.
func Render(w io.Writer, r *Weekly, name string) error {
	f, ok := LookupFormat(name)
	if !ok {
		return fmt.Errorf("unknown format %q: want %s", name, FormatNames())
	}
	return f.Render(w, r)
}

func renderJSON(w io.Writer, r *Weekly) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("render json report: %w", err)
	}
	return nil
}
