package check

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"bufio"
	"fmt"
	"io"
	"sort"
)

// maxTextExamples bounds the lines listed per rule in the text report.
const maxTextExamples = 20

// textReport groups violations by severity and rule, listing the first
// lines of each and counting the rest.
type textReport struct {
	out     io.Writer
	profile string
	groups  map[groupKey]*textGroup
}

type groupKey struct {
	sev  event.Severity
	rule string
}

type textGroup struct {
	count    int
	examples []string
}

func newTextReport(out io.Writer, profile string) *textReport {
	return &textReport{out: out, profile: profile, groups: map[groupKey]*textGroup{}}
}

func (t *textReport) line(r *lineResult) error {
	for _, v := range r.Violations {
		k := groupKey{v.Severity, v.Rule}
		g := t.groups[k]
		if g == nil {
			g = &textGroup{}
			t.groups[k] = g
		}
		g.count++
		if len(g.examples) < maxTextExamples {
			g.examples = append(g.examples, exampleLine(r, v))
		}
	}
	return nil
}

func exampleLine(r *lineResult, v event.Violation) string {
	where := fmt.Sprintf("line %d", r.Line)
	if r.Topic != nil {
		where += fmt.Sprintf(" (%s/%d@%d)", *r.Topic, *r.Partition, *r.Offset)
	}
	return where + ": " + v.Message
}

func (t *textReport) finish(s Summary) error {
	bw := bufio.NewWriter(t.out)
	fmt.Fprintf(bw, "eventwatch check: profile %s\n", t.profile)
	fmt.Fprintf(bw, "%d events, %d compliant, %d with errors, %d tombstones\n", s.Events, s.Compliant, s.Events-s.Compliant, s.Tombstones)
	keys := make([]groupKey, 0, len(t.groups))
	for k := range t.groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].sev != keys[j].sev {
			return keys[i].sev == event.SeverityError
		}
		return keys[i].rule < keys[j].rule
	})
	for _, k := range keys {
		g := t.groups[k]
		fmt.Fprintf(bw, "\n%-7s %s: %d\n", k.sev, k.rule, g.count)
		for _, ex := range g.examples {
			fmt.Fprintf(bw, "  %s\n", ex)
		}
		if more := g.count - len(g.examples); more > 0 {
			fmt.Fprintf(bw, "  ... and %d more\n", more)
		}
	}
	if len(keys) == 0 {
		fmt.Fprintln(bw, "\nno violations")
	}
	return bw.Flush()
}
