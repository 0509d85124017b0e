package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":        func(v float64) string { return f1(v) + " %" },
	"pctp":       pctPtr,
	"duration":   durationText,
	"shortRef":   shortRef,
	"trendMark":  trendMark,
	"colour":     complianceColour,
	"compChart":  complianceChart,
	"rulesChart": rulesChart,
	"dayChart":   dailyChart,
	"services":   serviceRows,
	"inc":        func(i int) int { return i + 1 },
	"ruleLabel":  ruleLabel,
	"trendChart": trendChart,
	"violChart":  violationsTrendChart,
	"lagChart":   lagChart,
	"dlqChart":   dlqChart,
	"title":      reportTitle,
	"weekState":  weekState,
	"pctColour":  pctColour,
}).Parse(htmlSource))

// pctColour is the accent of a percentage card: grey without data.
func pctColour(p *float64) string {
	if p == nil {
		return colourPrev
	}
	return complianceColour(*p)
}

func renderHTML(w io.Writer, r *Weekly) error {
	if err := htmlTemplate.Execute(w, r); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	return nil
}

// shortRef is an example's location without its topic, which the row
// already names.
func shortRef(e Example) string {
	s := fmt.Sprintf("%d@%d", e.Partition, e.Offset)
	if e.EventID != "" {
		s += " " + e.EventID
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
