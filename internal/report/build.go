package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
)

// topOffenders is how many offenders the report lists (overall and per
// service).
const topOffenders = 10

// trendWeeks is how many weeks the trend covers, this one included.
const trendWeeks = 8

// weekData is what the store holds for one week.
type weekData struct {
	records    []store.RecordAgg
	violations []store.ViolationAgg
	examples   []store.Example
	cluster    []store.ClusterAgg
	notes      []store.PositionNote
}

// Request says which report to build.
type Request struct {
	Week    Week           // ISO week
	Service string         // only this producing service ("" for all)
	Team    string         // only what this team owns ("" for all)
	Loc     *time.Location // zone weeks and days are cut in
	Now     time.Time      // stamps the report; a week not ended by then is in progress
	Owners  *team.Map      // service -> team (nil: every service is its own team)
	DocBase string         // URL of docs/rules.md that rule links point into
}

// Build computes the report of week w in loc from st, for one service or all
// (service ""). now stamps the report.
func Build(ctx context.Context, st store.Store, w Week, service string, loc *time.Location, now time.Time) (*Weekly, error) {
	return BuildFor(ctx, st, Request{Week: w, Service: service, Loc: loc, Now: now})
}

// BuildFor computes the report q asks for: the week, the seven weeks before
// it for the trend, limited to q's team or service.
func BuildFor(ctx context.Context, st store.Store, q Request) (*Weekly, error) {
	if q.Loc == nil {
		q.Loc = time.UTC
	}
	from, to := q.Week.Range(q.Loc)
	weeks := trendRange(q.Week, q.Loc)
	all, err := load(ctx, st, window(weeks[0].from, to, ""))
	if err != nil {
		return nil, err
	}
	sc := scopeOf(q, all)
	all = sc.filter(all)
	byWeek := splitWeeks(all, weeks)
	r := &Weekly{Week: q.Week.String(), From: from, To: to, TimeZone: q.Loc.String(), Service: q.Service, Team: q.Team,
		InProgress: to.After(q.Now), GeneratedAt: q.Now.In(q.Loc)}
	r.Comparison = comparisonOf(q.Week, q.Loc, q.Now)
	cur, prev := byWeek[len(byWeek)-1], byWeek[len(byWeek)-2].before(r.Comparison.To)
	if q.Team != "" && sc != nil {
		r.TeamServices = sc.ServiceList()
	}
	docs := ruleDocs(q.DocBase)
	r.Topics = compliance(cur, func(a store.RecordAgg) string { return a.Topic }, func(v store.ViolationAgg) string { return v.Topic })
	r.Rules = trends(cur, prev, docs)
	r.NewRules = newRules(r.Rules, hasRecords(prev))
	r.TopOffenders = offenders(cur, topOffenders)
	r.Daily = daily(cur.records, q.Loc)
	r.Services = sections(cur, prev, q.Loc, docs)
	for i := range r.Services {
		r.Services[i].Team = q.Owners.TeamOf(r.Services[i].Name)
	}
	fillSections(r, buildInput{q: q, cur: cur})
	r.Summary = summarize(r, cur, prev)
	r.Trend = trendPoints(weeks, byWeek)
	if r.InProgress {
		r.Trend[len(r.Trend)-1].InProgress = true
	}
	return r, nil
}

// fillSections fills the flow-health sections the store holds
// (reportSections with a Fill), before the summary adds them up.
func fillSections(r *Weekly, in buildInput) {
	for _, s := range reportSections {
		if s.Fill != nil {
			s.Fill(r, in)
		}
	}
}

// comparisonOf is what week w is compared with at now: the whole previous
// week once w has ended; while w runs, the previous week's first part as
// long as w has run so far, cut at the next whole hour (the store's
// granularity), so that week to date is never set against a whole week.
func comparisonOf(w Week, loc *time.Location, now time.Time) Comparison {
	from, to := w.Range(loc)
	prevFrom, prevTo := w.Prev().Range(loc)
	c := Comparison{Week: w.Prev().String(), From: prevFrom, To: prevTo}
	if !to.After(now) {
		return c
	}
	c.SameSpan = true
	elapsed := max(now.Sub(from), 0)
	cut := store.HourOf(prevFrom.Add(elapsed))
	if cut.Before(prevFrom.Add(elapsed)) {
		cut = cut.Add(time.Hour)
	}
	if cut.Before(prevTo) {
		c.To = cut.In(loc)
	}
	return c
}

// before keeps the rows of hours before t (the compared span of a week).
func (d weekData) before(t time.Time) weekData {
	var out weekData
	for _, a := range d.records {
		if a.Hour.Before(t) {
			out.records = append(out.records, a)
		}
	}
	for _, v := range d.violations {
		if v.Hour.Before(t) {
			out.violations = append(out.violations, v)
		}
	}
	for _, e := range d.examples {
		if e.Hour.Before(t) {
			out.examples = append(out.examples, e)
		}
	}
	for _, c := range d.cluster {
		if c.Hour.Before(t) {
			out.cluster = append(out.cluster, c)
		}
	}
	return out
}

// window turns a week range into store hours: zones with a non-whole-hour
// offset are cut at the UTC hour that holds their midnight.
func window(from, to time.Time, service string) store.Window {
	return store.Window{From: store.HourOf(from), To: store.HourOf(to), Service: service}
}

// load reads w in one read transaction (store.Snapshot), so the report's
// numbers come from the same flushes and add up.
func load(ctx context.Context, st store.Store, w store.Window) (weekData, error) {
	snap, err := st.Snapshot(ctx, w)
	if err != nil {
		return weekData{}, fmt.Errorf("load report data: %w", err)
	}
	return weekData{records: snap.Records, violations: snap.Violations, examples: snap.Examples, cluster: snap.Cluster,
		notes: snap.Notes}, nil
}

func hasRecords(d weekData) bool {
	for _, a := range d.records {
		if a.Checked > 0 {
			return true
		}
	}
	return false
}

func pct(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// pctOrNil is pct, or nil without data: "no data" is never 0 %.
func pctOrNil(part, whole int64) *float64 {
	if whole == 0 {
		return nil
	}
	p := pct(part, whole)
	return &p
}

// compliance groups d by the name rk/vk give and sorts worst first.
func compliance(d weekData, rk func(store.RecordAgg) string, vk func(store.ViolationAgg) string) []Compliance {
	by := map[string]*Compliance{}
	get := func(n string) *Compliance {
		if by[n] == nil {
			by[n] = &Compliance{Name: n}
		}
		return by[n]
	}
	for _, a := range d.records {
		c := get(rk(a))
		c.Checked += a.Checked
		c.Compliant += a.Compliant
	}
	for _, v := range d.violations {
		get(vk(v)).Violations += v.Violations
	}
	out := make([]Compliance, 0, len(by))
	for _, c := range by {
		c.CompliancePct = pct(c.Compliant, c.Checked)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CompliancePct != out[j].CompliancePct {
			return out[i].CompliancePct < out[j].CompliancePct
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ruleKey is how the report lists rules: once per (rule, profile).
type ruleKey struct{ rule, profile string }

type ruleSum struct {
	count    int64
	severity string
}

func sumRules(vs []store.ViolationAgg) map[ruleKey]*ruleSum {
	m := map[ruleKey]*ruleSum{}
	for _, v := range vs {
		k := ruleKey{v.Rule, v.Profile}
		if m[k] == nil {
			m[k] = &ruleSum{severity: v.Severity}
		}
		m[k].count += v.Violations
		if v.Severity == "error" { // a per-topic override may raise it: show the worst
			m[k].severity = "error"
		}
	}
	return m
}

// trends compares (rule, profile) counts with the previous week, most
// violations first, each with its summary, docs link and recent examples.
func trends(cur, prev weekData, docs func(string) (string, string)) []RuleTrend {
	c, p := sumRules(cur.violations), sumRules(prev.violations)
	for k, s := range p {
		if _, ok := c[k]; !ok {
			c[k] = &ruleSum{severity: s.severity}
		}
	}
	out := make([]RuleTrend, 0, len(c))
	for k, s := range c {
		var before int64
		if ps := p[k]; ps != nil {
			before = ps.count
		}
		t := RuleTrend{Rule: k.rule, Profile: k.profile, Severity: s.severity, Count: s.count, Previous: before, Change: s.count - before}
		t.Summary, t.DocURL = docs(k.rule)
		t.Trend = trendOf(t.Count, t.Previous)
		t.Examples = examplesFor(cur.examples, examplesPerRule, func(e *store.Example) bool {
			return e.Rule == k.rule && (k.profile == "" || e.Profile == k.profile)
		})
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b RuleTrend) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Profile, b.Profile))
	})
	return out
}

func trendOf(cur, prev int64) string {
	switch {
	case prev == 0 && cur > 0:
		return TrendNew
	case cur == 0 && prev > 0:
		return TrendGone
	case cur > prev:
		return TrendUp
	case cur < prev:
		return TrendDown
	}
	return TrendSame
}

// newRules lists the rules broken this week and not the week before; on
// the first week with data nothing is "new" (there is nothing to compare).
func newRules(ts []RuleTrend, hadPrevious bool) []RuleTrend {
	out := []RuleTrend{}
	if !hadPrevious {
		return out
	}
	for _, t := range ts {
		if t.Trend == TrendNew {
			out = append(out, t)
		}
	}
	return out
}

type offenderKey struct{ service, topic, eventType, rule, profile string }

// offenders lists the (service, topic, event type, rule, profile) with most
// violations, with their recent examples.
func offenders(d weekData, n int) []Offender {
	by := map[offenderKey]*Offender{}
	for _, v := range d.violations {
		k := offenderKey{v.Service, v.Topic, v.EventType, v.Rule, v.Profile}
		if by[k] == nil {
			by[k] = &Offender{Service: v.Service, Topic: v.Topic, EventType: v.EventType, Rule: v.Rule, Profile: v.Profile, Severity: v.Severity}
		}
		by[k].Violations += v.Violations
	}
	out := make([]Offender, 0, len(by))
	for _, o := range by {
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b Offender) int {
		return cmp.Or(cmp.Compare(b.Violations, a.Violations), cmp.Compare(a.Service, b.Service), cmp.Compare(a.Topic, b.Topic),
			cmp.Compare(a.EventType, b.EventType), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Profile, b.Profile))
	})
	if len(out) > n {
		out = out[:n]
	}
	for i := range out {
		o := &out[i]
		o.Examples = examplesFor(d.examples, examplesPerOffender, func(e *store.Example) bool {
			return e.Service == o.Service && e.Topic == o.Topic && e.Rule == o.Rule && e.EventType == o.EventType &&
				(o.Profile == "" || e.Profile == o.Profile)
		})
	}
	return out
}

// Bounds of the examples shown per offender and per rule.
const (
	examplesPerOffender = 3
	examplesPerRule     = 3
)

// examplesFor returns up to n of ex (newest first) that keep says to.
func examplesFor(ex []store.Example, n int, keep func(*store.Example) bool) []Example {
	out := []Example{}
	for i := range ex {
		if len(out) == n {
			break
		}
		if e := &ex[i]; keep(e) {
			out = append(out, Example{Service: e.Service, Topic: e.Topic, Partition: e.Partition, Offset: e.Offset, EventType: e.EventType,
				EventID: e.EventID, SchemaID: e.SchemaID, Time: e.Time, Observed: e.Observed, Message: e.Message, Field: e.Field})
		}
	}
	return out
}

// daily sums records per day of the week in loc, every day with data.
func daily(rs []store.RecordAgg, loc *time.Location) []DayPoint {
	by := map[string]*DayPoint{}
	for _, a := range rs {
		day := a.Hour.In(loc).Format(time.DateOnly)
		if by[day] == nil {
			by[day] = &DayPoint{Day: day}
		}
		by[day].Checked += a.Checked
		by[day].Compliant += a.Compliant
	}
	out := make([]DayPoint, 0, len(by))
	for _, p := range by {
		p.CompliancePct = pctOrNil(p.Compliant, p.Checked)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}
