package report

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// TestMarkdownKeepsLiteralText renders a report whose messages carry
// regexes and markup characters to Markdown, then renders that Markdown
// with a CommonMark + GFM renderer (goldmark): every message must come
// out as the same text, backslashes included, in table cells, list items
// and code spans alike.
func TestMarkdownKeepsLiteralText(t *testing.T) {
	msgs := []string{
		`event type Foo does not match ^huleedu\.[a-z0-9]+\.v\d+$`,
		`field *a* has [x](y) and <b>tags</b> | pipes and ` + "`ticks`",
		`path C:\dir\file\_name`,
	}
	r := &Weekly{Week: "2026-W47", From: mon17, To: mon17.AddDate(0, 0, 7), TimeZone: "UTC", GeneratedAt: mon17}
	for i, m := range msgs {
		ex := Example{Service: `svc\` + string(rune('a'+i)), Topic: `t\.x`, EventType: "a.b", Message: m, Field: `data.\x`, Time: mon17, Observed: mon17}
		r.Rules = append(r.Rules, RuleTrend{Rule: "naming.event_type", Severity: "error", Summary: m, Examples: []Example{ex}})
		r.TopOffenders = append(r.TopOffenders, Offender{Service: ex.Service, Topic: ex.Topic, EventType: "a.b", Rule: "naming.event_type", Examples: []Example{ex}})
	}
	var md bytes.Buffer
	if err := renderMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert(md.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(out.String(), ""))
	for _, m := range msgs {
		if n := strings.Count(text, m); n < 3 { // rule summary, example line, offender cell
			t.Errorf("rendered Markdown shows %q %d times, want 3 or more\nMarkdown:\n%s", m, n, md.String())
		}
	}
	for _, lit := range []string{`svc\a`, `t\.x`, `data.\x`} {
		if !strings.Contains(text, lit) {
			t.Errorf("rendered Markdown lost %q", lit)
		}
	}
	if strings.Contains(out.String(), "<em>") || strings.Contains(out.String(), "<a href=\"y\"") {
		t.Errorf("message text became markup:\n%s", out.String())
	}
}
