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
