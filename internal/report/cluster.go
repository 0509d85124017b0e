package report

import (
	"html/template"
	"sort"

	"github.com/eventwatch/eventwatch/internal/store"
)

// The flow-health sections the store's cluster rows fill: dead-letter
// topic growth, lag-objective breaches and trace propagation coverage.
var (
	dlqSection = reportSection{Key: "dlq", Title: "dead-letter topic growth", Fill: fillDLQ,
		Markdown: mdDLQ, CSV: csvDLQ, HTML: dlqHTML, Funcs: template.FuncMap{"dlqChart": dlqChart}}
	lagSection = reportSection{Key: "lag", Title: "lag objective", Fill: fillLag,
		Markdown: mdLag, CSV: csvLag, HTML: lagHTML, Funcs: template.FuncMap{"lagChart": lagChart}}
	propagationSection = reportSection{Key: "propagation", Title: "trace propagation coverage", Fill: fillPropagation,
		Markdown: mdPropagation, CSV: csvPropagation, HTML: propagationHTML}
)

const dlqHTML = `<h3>Dead-letter topic growth</h3>
{{if .DLQ}}{{template "chart" (dlqChart "Records added per dead-letter topic" .DLQ)}}<table><thead><tr><th scope="col">dead-letter topic</th><th scope="col" class="num">records added</th></tr></thead>
<tbody>{{range .DLQ}}<tr><td>{{wrap .Topic}}</td><td class="num">{{.Growth}}</td></tr>{{end}}</tbody></table>
{{else}}<p class="none">No dead-letter growth recorded.</p>{{end}}
`

const lagHTML = `<h3>Lag objective</h3>
{{if .Lag}}{{template "chart" (lagChart "Share of observed time above the lag objective, per consumer group" .Lag)}}<table><thead><tr><th scope="col">consumer group</th><th scope="col" class="num">time in breach</th><th scope="col" class="num">of observed time</th><th scope="col" class="num">time in status ERR</th><th scope="col" class="num" title="records deleted by retention before the group read them">lost</th><th scope="col" class="num" title="time retention was less than an hour from deleting a record the group had not read">near loss</th></tr></thead>
<tbody>{{range .Lag}}<tr><td>{{wrap .Group}}</td><td class="num">{{duration .BreachSeconds}}</td><td class="num">{{pct .BreachPct}}</td><td class="num">{{duration .ErrSeconds}}</td><td class="num">{{.LostRecords}}</td><td class="num">{{duration .AtRiskSeconds}}</td></tr>{{end}}</tbody></table>
{{else}}<p class="none">No lag samples recorded.</p>{{end}}
`

const propagationHTML = `<h3>Trace propagation coverage</h3>
{{if .Propagation}}<table><thead><tr><th scope="col">service</th><th scope="col" class="num">coverage</th><th scope="col" class="num">events</th></tr></thead>
<tbody>{{range .Propagation}}<tr><td>{{wrap .Service}}</td><td class="num">{{pct .Pct}}</td><td class="num">{{.Events}}</td></tr>{{end}}</tbody></table>
{{else}}<p class="none">No events observed by the stitcher.</p>{{end}}`

// clusterSum is the week's sum of one cluster row kind and name: its
// values and, for shares, what they are a share of.
type clusterSum struct{ v, t float64 }

// sumCluster sums the week's cluster rows by kind and name.
func sumCluster(cs []store.ClusterAgg) map[string]map[string]*clusterSum {
	by := map[string]map[string]*clusterSum{}
	for _, c := range cs {
		if by[c.Kind] == nil {
			by[c.Kind] = map[string]*clusterSum{}
		}
		if by[c.Kind][c.Name] == nil {
			by[c.Kind][c.Name] = &clusterSum{}
		}
		by[c.Kind][c.Name].v += c.Value
		by[c.Kind][c.Name].t += c.Total
	}
	return by
}

// fillDLQ is the records added per dead-letter topic, most first.
func fillDLQ(r *Weekly, in buildInput) {
	r.DLQ = []DLQGrowth{}
	for name, a := range sumCluster(in.cur.cluster)[store.KindDLQGrowth] {
		r.DLQ = append(r.DLQ, DLQGrowth{Topic: name, Growth: int64(a.v)})
	}
	sort.Slice(r.DLQ, func(i, j int) bool {
		return r.DLQ[i].Growth > r.DLQ[j].Growth || r.DLQ[i].Growth == r.DLQ[j].Growth && r.DLQ[i].Topic < r.DLQ[j].Topic
	})
}

// fillLag is each consumer group's time above its lag objective, in
// status ERR and near losing records, longest breach first. Every
// percentage is of the observed time of the group's lag_breach rows (its
// lag_err rows are written only when they add seconds, without a total).
func fillLag(r *Weekly, in buildInput) {
	by := sumCluster(in.cur.cluster)
	r.Lag = []LagRow{}
	for name, a := range by[store.KindLagBreach] {
		row := LagRow{Group: name, BreachSeconds: a.v, ObservedSeconds: a.t}
		if a.t > 0 {
			row.BreachPct = 100 * a.v / a.t
		}
		if e := by[store.KindLagErr][name]; e != nil {
			row.ErrSeconds = e.v
			if a.t > 0 {
				row.ErrPct = 100 * e.v / a.t
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
	sort.Slice(r.Lag, func(i, j int) bool {
		return r.Lag[i].BreachSeconds > r.Lag[j].BreachSeconds || r.Lag[i].BreachSeconds == r.Lag[j].BreachSeconds && r.Lag[i].Group < r.Lag[j].Group
	})
}

// fillPropagation is each service's trace propagation coverage.
func fillPropagation(r *Weekly, in buildInput) {
	r.Propagation = []CoverageRow{}
	for name, a := range sumCluster(in.cur.cluster)[store.KindPropagation] {
		r.Propagation = append(r.Propagation, CoverageRow{Service: name, Events: int64(a.t), Propagated: int64(a.v), Pct: pct(int64(a.v), int64(a.t))})
	}
	sort.Slice(r.Propagation, func(i, j int) bool { return r.Propagation[i].Service < r.Propagation[j].Service })
}

func mdDLQ(p mdPrinter, r *Weekly) {
	mdTable(p, "Dead-letter topic growth", []string{"topic", "records added"}, r.DLQ, func(d DLQGrowth) []string {
		return []string{d.Topic, i64(d.Growth)}
	})
}

func mdLag(p mdPrinter, r *Weekly) {
	mdTable(p, "Lag objective breaches", []string{"consumer group", "time in breach", "of observed time", "time in status ERR",
		"records lost to retention", "time within an hour of loss"}, r.Lag, func(l LagRow) []string {
		return []string{l.Group, durationText(l.BreachSeconds), f1(l.BreachPct) + " %", durationText(l.ErrSeconds),
			i64(l.LostRecords), durationText(l.AtRiskSeconds)}
	})
}

func mdPropagation(p mdPrinter, r *Weekly) {
	mdTable(p, "Trace propagation coverage", []string{"service", "coverage", "events"}, r.Propagation, func(c CoverageRow) []string {
		return []string{c.Service, f1(c.Pct) + " %", i64(c.Events)}
	})
}

func csvDLQ(r *Weekly, row csvRow) {
	for _, d := range r.DLQ {
		row("dlq_growth", map[string]string{"topic": d.Topic, "value": i64(d.Growth)})
	}
}

func csvLag(r *Weekly, row csvRow) {
	for _, l := range r.Lag {
		row("lag_breach_seconds", map[string]string{"reference": l.Group, "value": f1(l.BreachSeconds)})
		row("lag_status_err_seconds", map[string]string{"reference": l.Group, "value": f1(l.ErrSeconds)})
		row("lag_lost_records", map[string]string{"reference": l.Group, "value": i64(l.LostRecords)})
		row("lag_loss_risk_seconds", map[string]string{"reference": l.Group, "value": f1(l.AtRiskSeconds)})
	}
}

func csvPropagation(r *Weekly, row csvRow) {
	for _, c := range r.Propagation {
		row("propagation_pct", map[string]string{"service": c.Service, "checked": i64(c.Events), "compliant": i64(c.Propagated), "value": f1(c.Pct)})
	}
}
