package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestFlowsSectionRenders: every format shows the flow map: pathways with
// exact and inferred flows, the causation counts and the ambiguous hops.
func TestFlowsSectionRenders(t *testing.T) {
	r := fixedReport(t)
	r.Flows = &Flows{Exact: 16, Inferred: 20, Ambiguous: 4, Roots: 4, LateEvents: 4, AmbiguousFlows: 1,
		Pathways:      []FlowPathway{{Pathway: "batch>essay>spell", Flows: 8, Exact: 6, Inferred: 2, P50Second: 1.5, MaxSecond: 10.07}},
		AmbiguousHops: []AmbiguousHop{{From: "normalizer", To: "spellchecker", Count: 4}}}
	for format, want := range map[string][]string{
		"md":   {"## Flows (now)", "16 exact (span evidence), 20 inferred, 4 ambiguous", "| batch&gt;essay&gt;spell | 8 | 6 | 2 | 1.500 s | 10.070 s |", "| normalizer | spellchecker | 4 |"},
		"html": {"<h3>Flows (now)</h3>", "4 ambiguous (several possible upstreams, none attached)", "<td>normalizer</td><td>spellchecker</td><td class=\"num\">4</td>"},
		"csv":  {"flow_pathway", "batch>essay>spell", "flow_ambiguous", "normalizer>spellchecker"},
		"json": {`"flows"`, `"ambiguous_hops"`, `"late_events": 4`},
	} {
		var buf bytes.Buffer
		if err := Render(&buf, r, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, w := range want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s lacks %q:\n%s", format, w, buf.String())
			}
		}
	}
}
