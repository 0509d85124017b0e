package report

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
)

// DefaultRulesDoc is where rule links point when reports.rules_doc_url is
// not set: docs/rules.md of the eventwatch repository.
const DefaultRulesDoc = "https://github.com/eventwatch/eventwatch/blob/main/docs/rules.md"

// ruleDocs returns a lookup of a rule's one-line summary and its link.
func ruleDocs(base string) func(string) (string, string) {
	if base == "" {
		base = DefaultRulesDoc
	}
	sum := map[string]string{}
	for _, r := range event.Rules() {
		sum[r.ID] = r.Summary
	}
	return func(id string) (string, string) {
		return sum[id], base + "#" + event.RuleAnchor(id)
	}
}

// reportScope limits a report to what a team or a service owns; nil means
// everything.
type reportScope struct {
	*team.Scope
	service string // with a team: only this one of its services
}

func scopeOf(q Request, d weekData) *reportScope {
	if q.Team == "" && q.Service == "" {
		return nil
	}
	produced := map[string][]string{}
	for _, a := range d.records {
		produced[a.Topic] = append(produced[a.Topic], a.Service)
	}
	if q.Team != "" {
		return &reportScope{Scope: q.Owners.ForTeam(q.Team, produced), service: q.Service}
	}
	return &reportScope{Scope: q.Owners.ForService(q.Service, produced)}
}

func (sc *reportScope) ownsService(s string) bool {
	return sc.OwnsService(s) && (sc.service == "" || sc.service == s)
}

// filter keeps the rows the scope owns: records, violations and examples of
// its services; DLQ growth of its dead-letter topics; lag of its groups;
// propagation of its services.
func (sc *reportScope) filter(d weekData) weekData {
	if sc == nil {
		return d
	}
	var out weekData
	for _, a := range d.records {
		if sc.ownsService(a.Service) {
			out.records = append(out.records, a)
		}
	}
	for _, v := range d.violations {
		if sc.ownsService(v.Service) {
			out.violations = append(out.violations, v)
		}
	}
	for _, e := range d.examples {
		if sc.ownsService(e.Service) {
			out.examples = append(out.examples, e)
		}
	}
	for _, c := range d.cluster {
		if sc.ownsCluster(c) {
			out.cluster = append(out.cluster, c)
		}
	}
	return out
}

func (sc *reportScope) ownsCluster(c store.ClusterAgg) bool {
	switch c.Kind {
	case store.KindDLQGrowth:
		return sc.OwnsDLQ(c.Name)
	case store.KindLagBreach, store.KindLagErr, store.KindLagLost, store.KindLagAtRisk:
		return sc.OwnsGroup(c.Name)
	case store.KindPropagation:
		return sc.ownsService(c.Name)
	case store.KindWSProbes, store.KindWSNonCompliant, store.KindWSMessages, store.KindWSViolations:
		return sc.ownsService(store.WebSocketParts(c.Name)[0])
	}
	return false
}

// weekSpan is one week of the trend.
type weekSpan struct {
	week     Week
	from, to time.Time
}

// trendRange returns the trendWeeks weeks ending with w, oldest first.
func trendRange(w Week, loc *time.Location) []weekSpan {
	out := make([]weekSpan, trendWeeks)
	for i := trendWeeks - 1; i >= 0; i-- {
		from, to := w.Range(loc)
		out[i] = weekSpan{w, from, to}
		w = w.Prev()
	}
	return out
}

// splitWeeks cuts d into the weeks of spans.
func splitWeeks(d weekData, spans []weekSpan) []weekData {
	out := make([]weekData, len(spans))
	idx := func(h time.Time) int {
		for i, s := range spans {
			if !h.Before(store.HourOf(s.from)) && h.Before(store.HourOf(s.to)) {
				return i
			}
		}
		return -1
	}
	for _, a := range d.records {
		if i := idx(a.Hour); i >= 0 {
			out[i].records = append(out[i].records, a)
		}
	}
	for _, v := range d.violations {
		if i := idx(v.Hour); i >= 0 {
			out[i].violations = append(out[i].violations, v)
		}
	}
	for _, e := range d.examples {
		if i := idx(e.Hour); i >= 0 {
			out[i].examples = append(out[i].examples, e)
		}
	}
	for _, c := range d.cluster {
		if i := idx(c.Hour); i >= 0 {
			out[i].cluster = append(out[i].cluster, c)
		}
	}
	for _, n := range d.notes {
		if i := idx(store.HourOf(n.At)); i >= 0 {
			out[i].notes = append(out[i].notes, n)
		}
	}
	return out
}

// trendPoints sums each week of the trend.
func trendPoints(spans []weekSpan, weeks []weekData) []WeekPoint {
	out := make([]WeekPoint, len(spans))
	for i, d := range weeks {
		p := WeekPoint{Week: spans[i].week.String(), Violations: map[string]int64{}}
		for _, a := range d.records {
			p.Checked += a.Checked
			p.Compliant += a.Compliant
		}
		p.CompliancePct = pctOrNil(p.Compliant, p.Checked)
		for _, v := range d.violations {
			p.Violations[v.Rule] += v.Violations
		}
		var breach, observed float64
		for _, c := range d.cluster {
			switch c.Kind {
			case store.KindDLQGrowth:
				p.DLQGrowth += int64(c.Value)
			case store.KindLagBreach:
				breach, observed = breach+c.Value, observed+c.Total
			}
		}
		if observed > 0 {
			v := 100 * breach / observed
			p.LagBreachPct = &v
		}
		out[i] = p
	}
	return out
}
