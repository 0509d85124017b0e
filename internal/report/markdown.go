package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// mdCell escapes a table cell.
func mdCell(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "`", "'", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

func renderMarkdown(w io.Writer, r *Weekly) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format+"\n", a...) }
	title := "Event compliance report " + r.Week
	if r.Service != "" {
		title += " — " + mdCell(r.Service)
	}
	p("# %s\n", title)
	p("%s to %s (%s). Generated %s.\n", r.From.Format("Mon 2 Jan 2006"), r.To.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"), r.TimeZone, r.GeneratedAt.Format("2006-01-02 15:04 MST"))
	mdSummary(p, r)
	mdTable(p, "Compliance by service", []string{"service", "compliance", "checked", "violations"}, r.Services, func(s ServiceSection) []string {
		return []string{s.Name, f1(s.CompliancePct) + " %", i64(s.Checked), i64(s.Violations)}
	})
	mdTable(p, "Compliance by topic", []string{"topic", "compliance", "checked", "violations"}, r.Topics, func(c Compliance) []string {
		return []string{c.Name, f1(c.CompliancePct) + " %", i64(c.Checked), i64(c.Violations)}
	})
	mdRules(p, "Violations by rule", r.Rules)
	mdRules(p, "New rules broken this week", r.NewRules)
	mdOffenders(p, "Top offenders", r.TopOffenders)
	mdCluster(p, r)
	for _, s := range r.Services {
		mdService(p, s)
	}
	return b.Flush()
}

func mdSummary(p func(string, ...any), r *Weekly) {
	s := r.Summary
	p("## Summary\n")
	p("- Compliance: **%s %%** of %d records checked (%s)", f1(s.CompliancePct), s.Checked, prevText(s.PrevCompliancePct))
	p("- Violations: %d (previous week %d)", s.Violations, s.PrevViolations)
	p("- Services: %d, topics: %d, new rules broken: %d", s.Services, s.Topics, s.NewRules)
	p("- Dead-letter growth: %d records", s.DLQGrowth)
	p("- Lag objective breached: %s", durationText(s.LagBreachSeconds))
	if s.PropagationPct != nil {
		p("- Trace propagation: %s %% of %d hops\n", f1(*s.PropagationPct), s.Hops)
	} else {
		p("- Trace propagation: no hops observed\n")
	}
}

func prevText(p *float64) string {
	if p == nil {
		return "no data the previous week"
	}
	return "previous week " + f1(*p) + " %"
}

// durationText formats seconds as "2h 5m" or "40s".
func durationText(sec float64) string {
	s := int64(sec + 0.5)
	switch {
	case s >= 3600:
		return fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	case s >= 60:
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

// mdTable prints a table under a heading; a title starting with "#" is a
// sub-section (### instead of ##).
func mdTable[T any](p func(string, ...any), title string, head []string, rows []T, cells func(T) []string) {
	level := "##"
	if rest, ok := strings.CutPrefix(title, "#"); ok {
		level, title = "###", rest
	}
	p("%s %s\n", level, title)
	if len(rows) == 0 {
		p("None.\n")
		return
	}
	p("| %s |", strings.Join(head, " | "))
	p("|%s", strings.Repeat(" --- |", len(head)))
	for _, r := range rows {
		c := cells(r)
		for i := range c {
			c[i] = mdCell(c[i])
		}
		p("| %s |", strings.Join(c, " | "))
	}
	p("")
}

func mdRules(p func(string, ...any), title string, rules []RuleTrend) {
	mdTable(p, title, []string{"rule", "severity", "this week", "previous week", "trend"}, rules, func(t RuleTrend) []string {
		return []string{t.Rule, t.Severity, i64(t.Count), i64(t.Previous), fmt.Sprintf("%s (%+d)", t.Trend, t.Change)}
	})
}

func mdOffenders(p func(string, ...any), title string, os []Offender) {
	mdTable(p, title, []string{"service", "topic", "event type", "rule", "violations", "examples"}, os, func(o Offender) []string {
		refs := make([]string, 0, len(o.Examples))
		for _, e := range o.Examples {
			refs = append(refs, refString(e))
		}
		return []string{o.Service, o.Topic, o.EventType, o.Rule, i64(o.Violations), strings.Join(refs, ", ")}
	})
}

func mdCluster(p func(string, ...any), r *Weekly) {
	mdTable(p, "Dead-letter topic growth", []string{"topic", "records added"}, r.DLQ, func(d DLQGrowth) []string {
		return []string{d.Topic, i64(d.Growth)}
	})
	mdTable(p, "Lag objective breaches", []string{"consumer group", "time in breach", "of observed time"}, r.Lag, func(l LagRow) []string {
		return []string{l.Group, durationText(l.BreachSeconds), f1(l.BreachPct) + " %"}
	})
	mdTable(p, "Trace propagation coverage", []string{"service", "coverage", "hops"}, r.Propagation, func(c CoverageRow) []string {
		return []string{c.Service, f1(c.Pct) + " %", i64(c.Hops)}
	})
}

func mdService(p func(string, ...any), s ServiceSection) {
	p("## Service %s: %s %% compliant\n", mdCell(s.Name), f1(s.CompliancePct))
	p("%d records checked, %d violations (%s).\n", s.Checked, s.Violations, prevText(s.PrevCompliancePct))
	mdTable(p, "#Topics of "+mdCell(s.Name), []string{"topic", "compliance", "checked", "violations"}, s.Topics, func(c Compliance) []string {
		return []string{c.Name, f1(c.CompliancePct) + " %", i64(c.Checked), i64(c.Violations)}
	})
	mdRules(p, "#Rules broken by "+mdCell(s.Name), s.Rules)
	mdOffenders(p, "#Offenders in "+mdCell(s.Name), s.Offenders)
}
