package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// mdEscaper makes text literal in Markdown (CommonMark with GFM tables):
// the backslash itself first (so a regex such as ^huleedu\.[a-z]+ keeps
// its backslash), then the characters that start markup.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "\n", " ", "\r", " ", "`", "\\`", "*", `\*`,
	"<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`)

// mdCell escapes text for a table cell, a heading or a list item.
func mdCell(s string) string { return mdEscaper.Replace(s) }

// mdCodeEscaper keeps a code span one line and closed; inside a code span
// a backslash is literal, so nothing else is escaped.
var mdCodeEscaper = strings.NewReplacer("`", "'", "\n", " ", "\r", " ")

// mdCode is s as an inline code span outside a table.
func mdCode(s string) string { return "`" + mdCodeEscaper.Replace(s) + "`" }

func renderMarkdown(w io.Writer, r *Weekly) error {
	if sectionsErr != nil {
		return fmt.Errorf("render markdown report: %w", sectionsErr)
	}
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format+"\n", a...) }
	p("# %s\n", mdCell(reportTitle(r)))
	p("%s to %s (%s). %s %s Generated %s.\n", r.From.Format("Mon 2 Jan 2006"), r.To.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"), r.TimeZone,
		weekState(r), r.Comparison.Sentence(), r.GeneratedAt.Format("2006-01-02 15:04 MST"))
	if len(r.TeamServices) > 0 {
		p("Services of team %s: %s.\n", mdCell(r.Team), mdCell(strings.Join(r.TeamServices, ", ")))
	}
	mdSummary(p, r)
	mdTrend(p, r.Trend)
	mdTable(p, "Compliance by service", []string{"service", "compliance", "checked", "violations"}, r.Services, func(s ServiceSection) []string {
		return []string{s.Name, f1(s.CompliancePct) + " %", i64(s.Checked), i64(s.Violations)}
	})
	mdTable(p, "Compliance by topic", []string{"topic", "compliance", "checked", "violations"}, r.Topics, func(c Compliance) []string {
		return []string{c.Name, f1(c.CompliancePct) + " %", i64(c.Checked), i64(c.Violations)}
	})
	mdRules(p, r, "Violations by rule", r.Rules)
	mdNewRules(p, "New rules broken this week", r)
	mdOffenders(p, "Top offenders", r.TopOffenders)
	for _, s := range markdownOrder(reportSections) {
		s.Markdown(p, r)
	}
	for _, s := range r.Services {
		mdService(p, r, s)
	}
	return b.Flush()
}

// reportTitle is the report's heading, naming its scope.
func reportTitle(r *Weekly) string {
	t := "Event compliance report " + r.Week
	if s := r.Scope(); s != "" {
		t += " — " + s
	}
	return t
}

// weekState says whether the week is complete, in progress or empty.
func weekState(r *Weekly) string {
	switch {
	case !r.HasData() && r.InProgress:
		return "In progress: no records checked yet this week."
	case !r.HasData():
		return "No records were checked this week."
	case r.InProgress:
		return "In progress: week to date."
	}
	return "Complete week."
}

func mdSummary(p func(string, ...any), r *Weekly) {
	s := r.Summary
	p("## Summary\n")
	if s.CompliancePct == nil {
		p("- Compliance: **no data** (no records checked; %s)", prevText(r, s.PrevCompliancePct))
	} else {
		p("- Compliance: **%s %%** of %d records checked (%s)", f1(*s.CompliancePct), s.Checked, prevText(r, s.PrevCompliancePct))
	}
	p("- Violations: %d (%s %d)", s.Violations, r.Comparison.Label(), s.PrevViolations)
	p("- Services: %d, topics: %d, new rules broken: %s", s.Services, s.Topics, newRulesText(r))
	p("- Dead-letter growth: %d records", s.DLQGrowth)
	p("- Lag objective breached: %s", durationText(s.LagBreachSeconds))
	p("- Records lost to retention before they were read: %d (time a consumer group was within an hour of losing records: %s)",
		s.LostRecords, durationText(s.LossRiskSeconds))
	if s.PropagationPct != nil {
		p("- Trace propagation: %s %% of %d events carried trace context\n", f1(*s.PropagationPct), s.TracedEvents)
	} else {
		p("- Trace propagation: no events observed\n")
	}
}

// newRulesText is the count of newly broken rules, or why there is none.
func newRulesText(r *Weekly) string {
	if !r.HasPrevious() {
		return noPreviousText(r)
	}
	return i64(int64(r.Summary.NewRules))
}

// noPreviousText says why nothing is compared: no data in the compared
// span of the previous week.
func noPreviousText(r *Weekly) string {
	if r.Comparison.SameSpan {
		return "nothing to compare with: no data in the same span of the previous week"
	}
	return "no previous week to compare with: this is the first week with data"
}

// weekName names the report's own week in column headers and legends.
func weekName(r *Weekly) string {
	if r.InProgress {
		return "this week to date"
	}
	return "this week"
}

// prevText is a previous compliance figure with what it covers.
func prevText(r *Weekly, p *float64) string {
	if p == nil {
		return "no data in the " + r.Comparison.Label()
	}
	return r.Comparison.Label() + " " + f1(*p) + " %"
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

func mdTrend(p func(string, ...any), ws []WeekPoint) {
	mdTable(p, "Trend over the last weeks", []string{"week", "compliance", "checked", "violations", "dead-letter growth"}, ws, func(w WeekPoint) []string {
		var n int64
		for _, v := range w.Violations {
			n += v
		}
		week := w.Week
		if w.InProgress {
			week += " (to date)"
		}
		return []string{week, pctText(w.CompliancePct), i64(w.Checked), i64(n), i64(w.DLQGrowth)}
	})
}

// pctText is a percentage or "no data".
func pctText(p *float64) string {
	if p == nil {
		return "no data"
	}
	return f1(*p) + " %"
}

// ruleLabel names a rule with the profile that judged it.
func ruleLabel(rule, profile string) string {
	if profile == "" {
		return rule
	}
	return rule + " (" + profile + ")"
}

func mdRules(p func(string, ...any), r *Weekly, title string, rules []RuleTrend) {
	mdTable(p, title, []string{"rule", "severity", weekName(r), r.Comparison.Label(), "trend", "what it means"}, rules, func(t RuleTrend) []string {
		return []string{ruleLabel(t.Rule, t.Profile), t.Severity, i64(t.Count), i64(t.Previous), fmt.Sprintf("%s (%+d)", t.Trend, t.Change), t.Summary}
	})
	for _, t := range rules {
		if len(t.Examples) == 0 {
			continue
		}
		p("Examples of %s ([docs](%s)):\n", mdCode(ruleLabel(t.Rule, t.Profile)), t.DocURL)
		mdExamples(p, t.Examples)
	}
}

func mdNewRules(p func(string, ...any), title string, r *Weekly) {
	if !r.HasPrevious() {
		p("## %s\n", title)
		p("%s.\n", upperFirst(noPreviousText(r)))
		return
	}
	mdTable(p, title, []string{"rule", "severity", weekName(r), "what it means"}, r.NewRules, func(t RuleTrend) []string {
		return []string{ruleLabel(t.Rule, t.Profile), t.Severity, i64(t.Count), t.Summary}
	})
}

func mdExamples(p func(string, ...any), es []Example) {
	for _, e := range es {
		field := ""
		if e.Field != "" {
			field = " (field " + mdCode(e.Field) + ")"
		}
		p("- %s %s: %s%s", mdCode(refString(e)), mdCell(e.EventType), mdCell(e.Message), field)
	}
	p("")
}

func mdOffenders(p func(string, ...any), title string, os []Offender) {
	mdTable(p, title, []string{"service", "topic", "event type", "rule", "violations", "example"}, os, func(o Offender) []string {
		ex := ""
		if len(o.Examples) > 0 {
			ex = refString(o.Examples[0]) + ": " + o.Examples[0].Message
		}
		return []string{o.Service, o.Topic, o.EventType, ruleLabel(o.Rule, o.Profile), i64(o.Violations), ex}
	})
}

func mdService(p func(string, ...any), r *Weekly, s ServiceSection) {
	p("## Service %s: %s %% compliant\n", mdCell(s.Name), f1(s.CompliancePct))
	p("Owned by team %s. %d records checked, %d violations (%s).\n", mdCell(s.Team), s.Checked, s.Violations, prevText(r, s.PrevCompliancePct))
	mdTable(p, "#Topics of "+mdCell(s.Name), []string{"topic", "compliance", "checked", "violations"}, s.Topics, func(c Compliance) []string {
		return []string{c.Name, f1(c.CompliancePct) + " %", i64(c.Checked), i64(c.Violations)}
	})
	mdRules(p, r, "#Rules broken by "+mdCell(s.Name), s.Rules)
	mdOffenders(p, "#Offenders in "+mdCell(s.Name), s.Offenders)
}

// upperFirst capitalises the first letter of an ASCII sentence.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
