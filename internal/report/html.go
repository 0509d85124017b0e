package report

import (
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlFuncs are the page's template functions; a section's own are in
// its reportSection.Funcs.
var htmlFuncs = template.FuncMap{
	"pct":         func(v float64) string { return f1(v) + " %" },
	"pctp":        pctPtr,
	"duration":    durationText,
	"shortRef":    shortRef,
	"schemaLabel": schemaLabel,
	"trendMark":   trendMark,
	"colour":      complianceColour,
	"compChart":   complianceChart,
	"rulesChart":  rulesChart,
	"wrap":        wrapName,
	"prevLegend":  prevLegend,
	"noPrevious":  noPreviousText,
	"upper":       upperFirst,
	"weekName":    weekName,
	"dayChart":    dailyChart,
	"services":    serviceRows,
	"inc":         func(i int) int { return i + 1 },
	"ruleLabel":   ruleLabel,
	"trendChart":  trendChart,
	"violChart":   violationsTrendChart,
	"title":       reportTitle,
	"weekState":   weekState,
	"pctColour":   pctColour,
	"weekLink":    weekLink,
}

// htmlTemplate is the page with every section's fragment; htmlErr is why
// it could not be parsed (renderHTML returns it).
var htmlTemplate, htmlErr = parseHTML(htmlSource, htmlFuncs, reportSections)

// breakAfter are the characters a long name (service, topic, event type,
// rule id) or a token in a message (a regex, a field path) may wrap after.
const breakAfter = "._-/\\|:,=@)]}"

// wrapName is s, escaped, with a line-break opportunity (<wbr>) after each
// separator, so a long name wraps between its parts and never inside a
// word (the cells do not break words: report.html.tmpl).
func wrapName(s string) template.HTML {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	start := 0
	for i, r := range s {
		if strings.ContainsRune(breakAfter, r) && i+1 < len(s) {
			b.WriteString(template.HTMLEscapeString(s[start : i+1]))
			b.WriteString("<wbr>")
			start = i + 1
		}
	}
	b.WriteString(template.HTMLEscapeString(s[start:]))
	return template.HTML(b.String()) //nolint:gosec // every part is escaped above; only <wbr> is added
}

// prevLegend is the chart legend of the compared span, "" without one.
func prevLegend(r *Weekly) string {
	if !r.HasPrevious() {
		return ""
	}
	return r.Comparison.Label()
}

// weekLink is the relative URL of r's report for another week (delta
// weeks away), keeping its scope: the page links to the weeks around it.
func weekLink(r *Weekly, delta int) string {
	w, err := ParseWeek(r.Week)
	if err != nil {
		return ""
	}
	from, _ := w.Range(time.UTC)
	q := url.Values{"format": {"html"}, "week": {WeekOf(from.AddDate(0, 0, 7*delta+3), time.UTC).String()}}
	if r.Team != "" {
		q.Set("team", r.Team)
	}
	if r.Service != "" {
		q.Set("service", r.Service)
	}
	if r.TimeZone != "" && r.TimeZone != "UTC" {
		q.Set("tz", r.TimeZone)
	}
	return "?" + q.Encode()
}

// pctColour is the accent of a percentage card: grey without data.
func pctColour(p *float64) string {
	if p == nil {
		return colourPrev
	}
	return complianceColour(*p)
}

func renderHTML(w io.Writer, r *Weekly) error {
	if err := errors.Join(sectionsErr, htmlErr); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	if err := htmlTemplate.Execute(w, r); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	return nil
}

// shortRef is an example's location without its topic, which the row
// already names, and its schema id when the value was framed.
func shortRef(e Example) string {
	s := fmt.Sprintf("%d@%d", e.Partition, e.Offset)
	if e.EventID != "" {
		s += " " + e.EventID
	}
	if e.SchemaID != 0 {
		s += " · " + schemaLabel(e.SchemaID)
	}
	return s
}

func pctPtr(p *float64) string {
	if p == nil {
		return "no data"
	}
	return f1(*p) + " %"
}

// trendMark is a symbol plus words, so the trend never depends on colour.
func trendMark(t RuleTrend) string {
	switch t.Trend {
	case TrendNew:
		return "★ new"
	case TrendUp:
		return fmt.Sprintf("▲ up %d", t.Change)
	case TrendDown:
		return fmt.Sprintf("▼ down %d", -t.Change)
	case TrendGone:
		return "✓ gone"
	}
	return "= same"
}

func serviceRows(ss []ServiceSection) []Compliance {
	out := make([]Compliance, len(ss))
	for i, s := range ss {
		out[i] = s.Compliance
	}
	return out
}
