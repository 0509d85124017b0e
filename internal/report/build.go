package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// topOffenders is how many offenders the report lists (overall and per
// service).
const topOffenders = 10

// weekData is what the store holds for one week.
type weekData struct {
	records    []store.RecordAgg
	violations []store.ViolationAgg
	examples   []store.Example
	cluster    []store.ClusterAgg
}

// Build computes the report of week w in loc from st, for one service or all
// (service ""). now stamps the report.
func Build(ctx context.Context, st store.Store, w Week, service string, loc *time.Location, now time.Time) (*Weekly, error) {
	from, to := w.Range(loc)
	cur, err := load(ctx, st, window(from, to, service), true)
	if err != nil {
		return nil, err
	}
	pfrom, pto := w.Prev().Range(loc)
	prev, err := load(ctx, st, window(pfrom, pto, service), false)
	if err != nil {
		return nil, err
	}
	r := &Weekly{Week: w.String(), From: from, To: to, TimeZone: loc.String(), Service: service, GeneratedAt: now.In(loc)}
	r.Topics = compliance(cur, func(a store.RecordAgg) string { return a.Topic }, func(v store.ViolationAgg) string { return v.Topic })
	r.Rules = trends(cur.violations, prev.violations)
	r.NewRules = newRules(r.Rules)
	r.TopOffenders = offenders(cur, topOffenders)
	r.Daily = daily(cur.records, loc)
	r.Services = sections(cur, prev, loc)
	clusterRows(r, cur.cluster)
	r.Summary = summarize(r, cur, prev)
	return r, nil
}

// window turns a week range into store hours: zones with a non-whole-hour
// offset are cut at the UTC hour that holds their midnight.
func window(from, to time.Time, service string) store.Window {
	return store.Window{From: store.HourOf(from), To: store.HourOf(to), Service: service}
}

func load(ctx context.Context, st store.Store, w store.Window, full bool) (weekData, error) {
	var d weekData
	var err error
	if d.records, err = st.Records(ctx, w); err != nil {
		return d, fmt.Errorf("load records: %w", err)
	}
	if d.violations, err = st.Violations(ctx, w); err != nil {
		return d, fmt.Errorf("load violations: %w", err)
	}
	if !full {
		return d, nil
	}
	if d.examples, err = st.Examples(ctx, w); err != nil {
		return d, fmt.Errorf("load examples: %w", err)
	}
	if d.cluster, err = st.Cluster(ctx, w); err != nil {
		return d, fmt.Errorf("load cluster samples: %w", err)
	}
	return d, nil
}

func pct(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
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

type ruleKey struct{ rule, severity string }

func sumRules(vs []store.ViolationAgg) map[ruleKey]int64 {
	m := map[ruleKey]int64{}
	for _, v := range vs {
		m[ruleKey{v.Rule, v.Severity}] += v.Violations
	}
	return m
}

// trends compares rule counts with the previous week; most violations first.
func trends(cur, prev []store.ViolationAgg) []RuleTrend {
	c, p := sumRules(cur), sumRules(prev)
	for k := range p {
		if _, ok := c[k]; !ok {
			c[k] = 0
		}
	}
	out := make([]RuleTrend, 0, len(c))
	for k, n := range c {
		t := RuleTrend{Rule: k.rule, Severity: k.severity, Count: n, Previous: p[k], Change: n - p[k]}
		t.Trend = trendOf(t.Count, t.Previous)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Rule+out[i].Severity < out[j].Rule+out[j].Severity
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

func newRules(ts []RuleTrend) []RuleTrend {
	out := []RuleTrend{}
	for _, t := range ts {
		if t.Trend == TrendNew {
			out = append(out, t)
		}
	}
	return out
}

type offenderKey struct{ service, topic, eventType, rule string }

// offenders lists the (service, topic, event type, rule) with most
// violations, with their references.
func offenders(d weekData, n int) []Offender {
	by := map[offenderKey]*Offender{}
	for _, v := range d.violations {
		k := offenderKey{v.Service, v.Topic, v.EventType, v.Rule}
		if by[k] == nil {
			by[k] = &Offender{Service: v.Service, Topic: v.Topic, EventType: v.EventType, Rule: v.Rule, Severity: v.Severity}
		}
		by[k].Violations += v.Violations
	}
	out := make([]Offender, 0, len(by))
	for _, o := range by {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Violations != out[j].Violations {
			return out[i].Violations > out[j].Violations
		}
		a, b := out[i], out[j]
		return a.Service+a.Topic+a.EventType+a.Rule < b.Service+b.Topic+b.EventType+b.Rule
	})
	if len(out) > n {
		out = out[:n]
	}
	attachExamples(out, d.examples)
	return out
}

// examplesPerOffender bounds the references shown per offender.
const examplesPerOffender = 5

func attachExamples(os []Offender, ex []store.Example) {
	idx := map[offenderKey]int{}
	for i, o := range os {
		idx[offenderKey{o.Service, o.Topic, o.EventType, o.Rule}] = i
	}
	for _, e := range ex {
		i, ok := idx[offenderKey{e.Service, e.Topic, e.EventType, e.Rule}]
		if !ok || len(os[i].Examples) >= examplesPerOffender {
			continue
		}
		os[i].Examples = append(os[i].Examples, Reference{Topic: e.Topic, Partition: e.Partition, Offset: e.Offset, EventID: e.EventID, Time: e.Time})
	}
	for i := range os {
		if os[i].Examples == nil {
			os[i].Examples = []Reference{}
		}
	}
}

// daily sums records per day of the week in loc, every day present.
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
		p.CompliancePct = pct(p.Compliant, p.Checked)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}
