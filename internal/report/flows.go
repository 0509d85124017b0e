package report

import (
	"fmt"
	"strconv"
)

// Flows is the report's view of the flow map now (the week in progress of
// a whole-estate report; docs/tracing.md): each pathway with how many of
// its flows are exact (span evidence) or inferred, how every event's
// upstream was found, and the hops inference could not decide — counted
// as ambiguous, never attached to a guess.
type Flows struct {
	Pathways       []FlowPathway  `json:"pathways"`        // most flows first
	Exact          uint64         `json:"exact"`           // events whose upstream came from span evidence
	Inferred       uint64         `json:"inferred"`        // events whose upstream was inferred
	Ambiguous      uint64         `json:"ambiguous"`       // events with several possible upstreams: none attached
	Roots          uint64         `json:"roots"`           // events that start a chain
	AmbiguousHops  []AmbiguousHop `json:"ambiguous_hops"`  // ambiguous events by from and to service
	AmbiguousFlows uint64         `json:"ambiguous_flows"` // flows whose pathway is not known either
	LateEvents     uint64         `json:"late_events"`     // events that arrived after their chain closed and joined it
}

// FlowPathway is one pathway of the flow map.
type FlowPathway struct {
	Pathway   string  `json:"pathway"`     // services joined by '>'
	Flows     uint64  `json:"flows"`       // flows that took it
	Exact     uint64  `json:"exact"`       // of those, every hop from span evidence
	Inferred  uint64  `json:"inferred"`    // of those, with an inferred hop
	P50Second float64 `json:"p50_seconds"` // median first-to-last latency
	MaxSecond float64 `json:"max_seconds"` // largest
}

// AmbiguousHop counts events of To whose cause is one of several events of From.
type AmbiguousHop struct {
	From  string `json:"from_service"`
	To    string `json:"to_service"`
	Count uint64 `json:"count"`
}

// flowsSection is "Flows (now)": filled by a running instance
// (internal/api, WithFlows) for the week in progress of a whole-estate
// report.
var flowsSection = reportSection{Key: "flows", Title: "Flows (now)", Markdown: mdFlows, CSV: csvFlows, HTML: flowsHTML}

const flowsHTML = `{{with .Flows}}
<h3>Flows (now)</h3>
<p>How each event's upstream was found since eventwatch started: {{.Exact}} exact (span evidence), {{.Inferred}} inferred, {{.Ambiguous}} ambiguous (several possible upstreams, none attached), {{.Roots}} roots; {{.LateEvents}} late events joined their chains.</p>
<table><thead><tr><th scope="col">pathway</th><th scope="col" class="num">flows</th><th scope="col" class="num">exact</th><th scope="col" class="num">inferred</th><th scope="col" class="num">p50 (s)</th><th scope="col" class="num">max (s)</th></tr></thead>
<tbody>{{range .Pathways}}<tr><td>{{wrap .Pathway}}</td><td class="num">{{.Flows}}</td><td class="num">{{.Exact}}</td><td class="num">{{.Inferred}}</td><td class="num">{{printf "%.3f" .P50Second}}</td><td class="num">{{printf "%.3f" .MaxSecond}}</td></tr>{{end}}</tbody></table>{{if .AmbiguousHops}}
<table><thead><tr><th scope="col">ambiguous: from</th><th scope="col">to</th><th scope="col" class="num">events</th></tr></thead>
<tbody>{{range .AmbiguousHops}}<tr><td>{{wrap .From}}</td><td>{{wrap .To}}</td><td class="num">{{.Count}}</td></tr>{{end}}</tbody></table>{{end}}{{end}}`

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func mdFlows(p mdPrinter, r *Weekly) {
	f := r.Flows
	if f == nil {
		return
	}
	p("## Flows (now)\n")
	p("How each event's upstream was found, since eventwatch started (docs/tracing.md): %s exact (span evidence), %s inferred, %s ambiguous (several possible upstreams, none attached), %s roots; %s late events joined their chains.\n",
		u64(f.Exact), u64(f.Inferred), u64(f.Ambiguous), u64(f.Roots), u64(f.LateEvents))
	mdTable(p, "#Pathways", []string{"pathway", "flows", "exact", "inferred", "p50", "max"}, f.Pathways, func(w FlowPathway) []string {
		return []string{w.Pathway, u64(w.Flows), u64(w.Exact), u64(w.Inferred), fmt.Sprintf("%.3f s", w.P50Second), fmt.Sprintf("%.3f s", w.MaxSecond)}
	})
	if len(f.AmbiguousHops) > 0 || f.AmbiguousFlows > 0 {
		mdTable(p, "#Ambiguous hops", []string{"from", "to", "events"}, f.AmbiguousHops, func(h AmbiguousHop) []string {
			return []string{h.From, h.To, u64(h.Count)}
		})
		p("Flows whose pathway is not known either: %s.\n", u64(f.AmbiguousFlows))
	}
}

func csvFlows(r *Weekly, row csvRow) {
	f := r.Flows
	if f == nil {
		return
	}
	row("flows", map[string]string{"reference": "causation", "value": fmt.Sprintf("exact %d, inferred %d, ambiguous %d, roots %d, late %d",
		f.Exact, f.Inferred, f.Ambiguous, f.Roots, f.LateEvents)})
	for _, w := range f.Pathways {
		row("flow_pathway", map[string]string{"reference": w.Pathway, "checked": u64(w.Flows), "value": u64(w.Exact) + " exact",
			"message": u64(w.Inferred) + " inferred"})
	}
	for _, h := range f.AmbiguousHops {
		row("flow_ambiguous", map[string]string{"reference": h.From + ">" + h.To, "checked": u64(h.Count), "value": "ambiguous"})
	}
}
