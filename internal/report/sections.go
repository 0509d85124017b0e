package report

import (
	"sort"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// split partitions a week's data by service.
func split(d weekData) map[string]*weekData {
	by := map[string]*weekData{}
	get := func(s string) *weekData {
		if by[s] == nil {
			by[s] = &weekData{}
		}
		return by[s]
	}
	for _, a := range d.records {
		get(a.Service).records = append(get(a.Service).records, a)
	}
	for _, v := range d.violations {
		get(v.Service).violations = append(get(v.Service).violations, v)
	}
	for _, e := range d.examples {
		get(e.Service).examples = append(get(e.Service).examples, e)
	}
	return by
}

// sections builds one section per service, worst compliance first.
func sections(cur, prev weekData, loc *time.Location, docs func(string) (string, string)) []ServiceSection {
	c, p := split(cur), split(prev)
	out := []ServiceSection{}
	for svc, d := range c {
		pd := p[svc]
		if pd == nil {
			pd = &weekData{}
		}
		out = append(out, section(svc, *d, *pd, loc, docs))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CompliancePct != out[j].CompliancePct {
			return out[i].CompliancePct < out[j].CompliancePct
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func section(svc string, d, prev weekData, loc *time.Location, docs func(string) (string, string)) ServiceSection {
	s := ServiceSection{Compliance: total(svc, d)}
	if pt := total(svc, prev); pt.Checked > 0 {
		s.PrevCompliancePct = &pt.CompliancePct
	}
	s.Topics = compliance(d, func(a store.RecordAgg) string { return a.Topic }, func(v store.ViolationAgg) string { return v.Topic })
	s.EventTypes = compliance(d, func(a store.RecordAgg) string { return a.EventType }, func(v store.ViolationAgg) string { return v.EventType })
	s.Rules = trends(d, prev, docs)
	s.NewRules = newRules(s.Rules, hasRecords(prev))
	s.Offenders = offenders(d, topOffenders)
	s.Daily = daily(d.records, loc)
	return s
}

// total sums d into one Compliance named name.
func total(name string, d weekData) Compliance {
	c := Compliance{Name: name}
	for _, a := range d.records {
		c.Checked += a.Checked
		c.Compliant += a.Compliant
	}
	for _, v := range d.violations {
		c.Violations += v.Violations
	}
	c.CompliancePct = pct(c.Compliant, c.Checked)
	return c
}

// clusterRows fills the DLQ, lag and propagation sections.
func clusterRows(r *Weekly, cs []store.ClusterAgg) {
	type acc struct{ v, t float64 }
	by := map[string]map[string]*acc{}
	for _, c := range cs {
		if by[c.Kind] == nil {
			by[c.Kind] = map[string]*acc{}
		}
		if by[c.Kind][c.Name] == nil {
			by[c.Kind][c.Name] = &acc{}
		}
		by[c.Kind][c.Name].v += c.Value
		by[c.Kind][c.Name].t += c.Total
	}
	r.DLQ, r.Lag, r.Propagation = []DLQGrowth{}, []LagRow{}, []CoverageRow{}
	for name, a := range by[store.KindDLQGrowth] {
		r.DLQ = append(r.DLQ, DLQGrowth{Topic: name, Growth: int64(a.v)})
	}
	for name, a := range by[store.KindLagBreach] {
		row := LagRow{Group: name, BreachSeconds: a.v, ObservedSeconds: a.t}
		if a.t > 0 {
			row.BreachPct = 100 * a.v / a.t
		}
		if e := by[store.KindLagErr][name]; e != nil {
			row.ErrSeconds = e.v
			if e.t > 0 {
				row.ErrPct = 100 * e.v / e.t
			}
		}
		if l := by[store.KindLagLost][name]; l != nil {
			row.LostRecords = int64(l.v)
		}
		if r := by[store.KindLagAtRisk][name]; r != nil {
			row.AtRiskSeconds = r.v
		}
		r.Lag = append(r.Lag, row)
	}
	for name, a := range by[store.KindPropagation] {
		r.Propagation = append(r.Propagation, CoverageRow{Service: name, Events: int64(a.t), Propagated: int64(a.v), Pct: pct(int64(a.v), int64(a.t))})
	}
	sort.Slice(r.DLQ, func(i, j int) bool {
		return r.DLQ[i].Growth > r.DLQ[j].Growth || r.DLQ[i].Growth == r.DLQ[j].Growth && r.DLQ[i].Topic < r.DLQ[j].Topic
	})
	sort.Slice(r.Lag, func(i, j int) bool {
		return r.Lag[i].BreachSeconds > r.Lag[j].BreachSeconds || r.Lag[i].BreachSeconds == r.Lag[j].BreachSeconds && r.Lag[i].Group < r.Lag[j].Group
	})
	sort.Slice(r.Propagation, func(i, j int) bool { return r.Propagation[i].Service < r.Propagation[j].Service })
}

// summarize computes the headline numbers.
func summarize(r *Weekly, cur, prev weekData) Summary {
	t, pt := total("", cur), total("", prev)
	s := Summary{Checked: t.Checked, Compliant: t.Compliant, CompliancePct: pctOrNil(t.Compliant, t.Checked),
		Violations: t.Violations, PrevViolations: pt.Violations, Services: len(r.Services), Topics: len(r.Topics), NewRules: len(r.NewRules)}
	if pt.Checked > 0 {
		s.PrevCompliancePct = &pt.CompliancePct
	}
	for _, d := range r.DLQ {
		s.DLQGrowth += d.Growth
	}
	for _, l := range r.Lag {
		s.LagBreachSeconds += l.BreachSeconds
		s.LostRecords += l.LostRecords
		s.LossRiskSeconds += l.AtRiskSeconds
	}
	var prop int64
	for _, c := range r.Propagation {
		s.TracedEvents += c.Events
		prop += c.Propagated
	}
	s.PropagationPct = pctOrNil(prop, s.TracedEvents)
	return s
}
