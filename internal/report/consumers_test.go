package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestConsumersSection: readers, the retirement verdict and the
// not-idempotent finding appear in the Markdown, HTML and JSON reports,
// and the section is absent without data.
func TestConsumersSection(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	rep := &Weekly{Week: "2026-W10", From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
		TimeZone: "UTC", InProgress: true, Summary: Summary{Checked: 1, Compliant: 1},
		Consumers: &Consumers{
			Types: []TypeReaders{{Type: "billing.invoice.issued", Version: "1.0", Producers: []LastSeen{{Name: "billing-legacy", Last: at}},
				Readers:   []LastSeen{{Name: "invoice-archiver", Last: at, Behind: 3}},
				Retirable: true, Verdict: "v1.0 can be retired: no producer for 7 days, every reader also reads v2.0"}},
			Idempotency: []IdempotencyRow{{Group: "payment-relay", Type: "billing.invoice.issued", Verdict: "not_idempotent", Redelivered: 2, Duplicated: 1,
				Example: "group payment-relay is not idempotent for billing.invoice.issued"}},
		}}
	for _, format := range []string{"md", "html", "json"} {
		var buf bytes.Buffer
		if err := Render(&buf, rep, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, want := range []string{"v1.0 can be retired: no producer for 7 days", "invoice-archiver", "billing-legacy", "group payment-relay is not idempotent"} {
			if !strings.Contains(strings.ReplaceAll(buf.String(), "<wbr>", ""), want) { // HTML names wrap at separators
				t.Errorf("%s report lacks %q", format, want)
			}
		}
		if format != "json" && (!strings.Contains(buf.String(), "not idempotent") || strings.Contains(buf.String(), ">not_idempotent<") || strings.Contains(buf.String(), "| not_idempotent |")) {
			t.Errorf("%s report shows the verdict as an identifier, not as words", format)
		}
		if format == "md" && !strings.Contains(buf.String(), "invoice-archiver (2026-03-04 10:00, 3 unread)") {
			t.Errorf("md report lacks the reader's last read and unread count:\n%s", buf.String())
		}
		if format == "html" {
			unread := *rep
			c := *rep.Consumers
			c.Types = append([]TypeReaders{{Type: "billing.ledger.posted", Version: "1.0", Producers: []LastSeen{{Name: "ledger-writer", Last: at}},
				Verdict: "v1.0 cannot be retired: it is the newest version of billing.ledger.posted"}}, c.Types...)
			unread.Consumers = &c
			var h bytes.Buffer
			if err := Render(&h, &unread, "html"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(h.String(), "UTC)</td><td>none</td>") {
				t.Errorf("html: a type nobody reads shows an empty readers cell, not none")
			}
		}
		rep2 := *rep
		rep2.Consumers = nil
		buf.Reset()
		if err := Render(&buf, &rep2, format); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "Who reads what") || strings.Contains(buf.String(), `"consumers"`) {
			t.Errorf("%s report shows the section without data", format)
		}
	}
}
