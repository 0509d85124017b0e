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

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func mdFlows(p func(string, ...any), r *Weekly) {
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

func csvFlows(r *Weekly, row func(string, map[string]string)) {
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
