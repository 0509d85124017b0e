package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestCatalogDriftSection: the catalog-drift differences appear in the
// Markdown, HTML and JSON reports, and nowhere when there are none.
func TestCatalogDriftSection(t *testing.T) {
	rep := &Weekly{Week: "2026-W10", From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
		TimeZone: "UTC", InProgress: true, Summary: Summary{Checked: 1, Compliant: 1},
		CatalogDrift: []CatalogDifference{{Kind: "seen_not_declared", Type: "content.book.retracted", Version: "1.0",
			Message: "content.book.retracted 1.0 is in traffic (from content-service) but not declared"}}}
	for _, format := range []string{"md", "html", "json"} {
		var buf bytes.Buffer
		if err := Render(&buf, rep, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		// the HTML page lets long names wrap after separators (<wbr>)
		if !strings.Contains(strings.ReplaceAll(buf.String(), "<wbr>", ""), "content.book.retracted 1.0 is in traffic") {
			t.Errorf("%s report lacks the catalog drift:\n%.2000s", format, buf.String())
		}
		rep2 := *rep
		rep2.CatalogDrift = nil
		buf.Reset()
		if err := Render(&buf, &rep2, format); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(buf.String()), "catalog drift") || strings.Contains(buf.String(), "catalog_drift") {
			t.Errorf("%s report shows a catalog drift section without differences", format)
		}
	}
}
