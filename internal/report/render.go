package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// Formats Render understands, with their content types.
var Formats = map[string]string{
	"json": "application/json",
	"csv":  "text/csv; charset=utf-8",
	"md":   "text/markdown; charset=utf-8",
	"html": "text/html; charset=utf-8",
}

// Render writes r in format (json, csv, md or html).
func Render(w io.Writer, r *Weekly, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return renderCSV(w, r)
	case "md":
		return renderMarkdown(w, r)
	case "html":
		return renderHTML(w, r)
	}
	return fmt.Errorf("unknown format %q: want json, csv, md or html", format)
}

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
var csvHeader = []string{"week", "section", "service", "topic", "event_type", "rule", "severity",
	"checked", "compliant", "compliance_pct", "violations", "previous", "trend", "value", "reference"}

func renderCSV(w io.Writer, r *Weekly) error {
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
	csvCluster(r, row)
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

func csvCompliance(r *Weekly, row func(string, map[string]string)) {
	s := r.Summary
	row("summary", compCells(Compliance{Checked: s.Checked, Compliant: s.Compliant, CompliancePct: s.CompliancePct, Violations: s.Violations}))
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
		row("rule", map[string]string{"rule": t.Rule, "severity": t.Severity, "violations": i64(t.Count), "previous": i64(t.Previous), "trend": t.Trend})
	}
	for _, o := range r.TopOffenders {
		cells := map[string]string{"service": o.Service, "topic": o.Topic, "event_type": o.EventType, "rule": o.Rule, "severity": o.Severity, "violations": i64(o.Violations)}
		refs := make([]string, 0, len(o.Examples))
		for _, e := range o.Examples {
			refs = append(refs, refString(e))
		}
		cells["reference"] = strings.Join(refs, " ")
		row("offender", cells)
	}
}

func csvCluster(r *Weekly, row func(string, map[string]string)) {
	for _, d := range r.DLQ {
		row("dlq_growth", map[string]string{"topic": d.Topic, "value": i64(d.Growth)})
	}
	for _, l := range r.Lag {
		row("lag_breach_seconds", map[string]string{"reference": l.Group, "value": f1(l.BreachSeconds)})
	}
	for _, c := range r.Propagation {
		row("propagation_pct", map[string]string{"service": c.Service, "checked": i64(c.Hops), "compliant": i64(c.Propagated), "value": f1(c.Pct)})
	}
}

// refString formats a reference as topic/partition@offset (event id).
func refString(e Reference) string {
	s := fmt.Sprintf("%s/%d@%d", e.Topic, e.Partition, e.Offset)
	if e.EventID != "" {
		s += " (" + e.EventID + ")"
	}
	return s
}
