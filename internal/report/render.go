package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// Weeks lists the weeks st holds data for, newest first.
func Weeks(ctx context.Context, st store.Store, loc *time.Location, now time.Time) ([]WeekInfo, error) {
	hours, err := st.Hours(ctx)
	if err != nil {
		return nil, fmt.Errorf("list stored hours: %w", err)
	}
	by := map[Week]int64{}
	for _, h := range hours {
		by[WeekOf(h.Hour, loc)] += h.Checked
	}
	out := make([]WeekInfo, 0, len(by))
	for w, n := range by {
		from, to := w.Range(loc)
		out = append(out, WeekInfo{Week: w.String(), From: from, To: to, Checked: n, Complete: !to.After(now)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From.After(out[j].From) })
	return out, nil
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func i64(v int64) string { return strconv.FormatInt(v, 10) }

// csvHeader is the one table every CSV row fits: a section column says what
// the row is; unused cells are empty.
var csvHeader = []string{"week", "section", "service", "topic", "event_type", "rule", "profile", "severity",
	"checked", "compliant", "compliance_pct", "violations", "previous", "trend", "value", "reference", "message", "field"}

func renderCSV(w io.Writer, r *Weekly) error {
	if sectionsErr != nil {
		return fmt.Errorf("render csv report: %w", sectionsErr)
	}
	cw := csv.NewWriter(w)
	row := func(section string, cells map[string]string) {
		rec := make([]string, len(csvHeader))
		rec[0], rec[1] = r.Week, section
		for i, h := range csvHeader {
			if v, ok := cells[h]; ok {
				rec[i] = safeCell(v)
			}
		}
		_ = cw.Write(rec) // a write error is reported by cw.Error
	}
	_ = cw.Write(csvHeader)
	csvCompliance(r, row)
	csvRules(r, row)
	for _, s := range reportSections {
		s.CSV(r, row)
	}
	cw.Flush()
	return cw.Error()
}

// safeCell defuses spreadsheet formulas in values taken from records.
func safeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "'" + v
		}
	}
	return v
}

func compCells(c Compliance) map[string]string {
	return map[string]string{"checked": i64(c.Checked), "compliant": i64(c.Compliant), "compliance_pct": f1(c.CompliancePct), "violations": i64(c.Violations)}
}

// pctCell is a percentage, or empty without data (never 0).
func pctCell(p *float64) string {
	if p == nil {
		return ""
	}
	return f1(*p)
}

func csvCompliance(r *Weekly, row func(string, map[string]string)) {
	s := r.Summary
	cells := compCells(Compliance{Checked: s.Checked, Compliant: s.Compliant, Violations: s.Violations})
	cells["compliance_pct"] = pctCell(s.CompliancePct)
	cells["previous"] = i64(s.PrevViolations)
	row("summary", cells)
	c := r.Comparison
	row("comparison", map[string]string{"reference": c.Week, "value": c.From.Format(time.RFC3339) + "/" + c.To.Format(time.RFC3339),
		"message": c.Sentence()})
	for _, svc := range r.Services {
		cells := compCells(svc.Compliance)
		cells["service"] = svc.Name
		row("service", cells)
		for _, t := range svc.Topics {
			cells := compCells(t)
			cells["service"], cells["topic"] = svc.Name, t.Name
			row("service_topic", cells)
		}
	}
	for _, t := range r.Topics {
		cells := compCells(t)
		cells["topic"] = t.Name
		row("topic", cells)
	}
}

func csvRules(r *Weekly, row func(string, map[string]string)) {
	for _, t := range r.Rules {
		row("rule", map[string]string{"rule": t.Rule, "profile": t.Profile, "severity": t.Severity, "violations": i64(t.Count),
			"previous": i64(t.Previous), "trend": t.Trend, "message": t.Summary, "reference": t.DocURL})
		csvExamples(row, "rule_example", t.Rule, t.Profile, t.Severity, t.Examples)
	}
	for _, o := range r.TopOffenders {
		row("offender", map[string]string{"service": o.Service, "topic": o.Topic, "event_type": o.EventType, "rule": o.Rule,
			"profile": o.Profile, "severity": o.Severity, "violations": i64(o.Violations)})
		csvExamples(row, "offender_example", o.Rule, o.Profile, o.Severity, o.Examples)
	}
	for _, p := range r.Trend {
		row("trend_week", map[string]string{"reference": p.Week, "checked": i64(p.Checked), "compliant": i64(p.Compliant),
			"compliance_pct": pctCell(p.CompliancePct), "value": i64(p.DLQGrowth)})
	}
}

// csvExamples writes one row per example, after the row it belongs to.
func csvExamples(row func(string, map[string]string), section, rule, profile, sev string, es []Example) {
	for _, e := range es {
		row(section, map[string]string{"service": e.Service, "topic": e.Topic, "event_type": e.EventType, "rule": rule,
			"profile": profile, "severity": sev, "reference": refString(e), "message": e.Message, "field": e.Field})
	}
}

// refString formats an example's location as topic/partition@offset
// (event id, schema id), each in the parentheses when known.
func refString(e Example) string {
	s := fmt.Sprintf("%s/%d@%d", e.Topic, e.Partition, e.Offset)
	var ids []string
	if e.EventID != "" {
		ids = append(ids, e.EventID)
	}
	if e.SchemaID != 0 {
		ids = append(ids, schemaLabel(e.SchemaID))
	}
	if len(ids) > 0 {
		s += " (" + strings.Join(ids, ", ") + ")"
	}
	return s
}

// schemaLabel names a Confluent schema id the way every rendering shows it.
func schemaLabel(id int32) string { return "schema " + strconv.FormatInt(int64(id), 10) }
