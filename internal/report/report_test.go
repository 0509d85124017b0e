package report

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// mon17 is Monday of 2026-W47 (UTC).
var mon17 = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestReportNumbersFromKnownRecords feeds a generated set of audited records
// through the aggregator and the SQLite store, spread over a week, and
// checks every headline number against the same numbers computed directly
// from the records.
func TestReportNumbersFromKnownRecords(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(9 * time.Hour))
	a, _ := newTestAggregator(t, st, store.Config{MaxExamples: 3}, c)
	var all []observation
	for day := range 7 {
		c.Set(mon17.Add(time.Duration(day)*24*time.Hour + 10*time.Hour))
		obs := dataset(uint64(day+1), 300, c.Now())
		observeAll(a, obs)
		all = append(all, obs...)
		if err := a.Flush(context.Background()); err != nil {
			t.Fatalf("flush: %v", err)
		}
	}
	want := expect(all)
	r, err := Build(context.Background(), st, Week{2026, 47}, "", time.UTC, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	if s.Checked != want.Checked || s.Compliant != want.Compliant || s.Violations != want.Violations {
		t.Fatalf("summary checked/compliant/violations = %d/%d/%d, want %d/%d/%d", s.Checked, s.Compliant, s.Violations, want.Checked, want.Compliant, want.Violations)
	}
	if s.CompliancePct == nil || !near(*s.CompliancePct, 100*float64(want.Compliant)/float64(want.Checked)) {
		t.Errorf("compliance %v", s.CompliancePct)
	}
	checkGroups(t, "topic", r.Topics, want.Topic)
	checkGroups(t, "service", serviceRows(r.Services), want.Service)
	for _, rt := range r.Rules {
		if rt.Count != want.Rule[rt.Rule] || rt.Trend != TrendNew {
			t.Errorf("rule %s = %d (%s), want %d new", rt.Rule, rt.Count, rt.Trend, want.Rule[rt.Rule])
		}
	}
	if len(r.Rules) != len(want.Rule) || len(r.Daily) != 7 {
		t.Errorf("%d rules, %d days; want %d and 7", len(r.Rules), len(r.Daily), len(want.Rule))
	}
	checkOffenders(t, r, all)
}

func checkGroups(t *testing.T, what string, got []Compliance, want map[string][2]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d %ss, want %d", len(got), what, len(want))
	}
	for _, g := range got {
		w := want[g.Name]
		if g.Checked != w[0] || g.Compliant != w[1] || !near(g.CompliancePct, 100*float64(w[1])/float64(w[0])) {
			t.Errorf("%s %s: checked %d compliant %d (%v%%), want %d %d", what, g.Name, g.Checked, g.Compliant, g.CompliancePct, w[0], w[1])
		}
	}
}

// checkOffenders checks the top offender is the real top one and that its
// references point at records that really broke that rule.
func checkOffenders(t *testing.T, r *Weekly, all []observation) {
	t.Helper()
	broke := map[[3]any]bool{}
	counts := map[offenderKey]int64{}
	for _, o := range all {
		for _, v := range o.Res.Violations {
			broke[[3]any{o.Rec.Topic, o.Rec.Offset, v.Rule}] = true
			counts[offenderKey{storedName(o.Res.Source), o.Rec.Topic, o.Res.EventType, v.Rule, ""}]++
		}
	}
	var top int64
	for _, n := range counts {
		top = max(top, n)
	}
	if len(r.TopOffenders) == 0 || r.TopOffenders[0].Violations != top {
		t.Fatalf("top offender %+v, want %d violations", r.TopOffenders, top)
	}
	for _, o := range r.TopOffenders {
		if len(o.Examples) == 0 || len(o.Examples) > examplesPerOffender {
			t.Errorf("offender %+v has %d examples", o, len(o.Examples))
		}
		for _, e := range o.Examples {
			if !broke[[3]any{e.Topic, e.Offset, o.Rule}] {
				t.Errorf("reference %s does not break %s", refString(e), o.Rule)
			}
		}
	}
}

// TestTrendAndNewRules checks the comparison with the previous week: a rule
// only broken this week is new, one only broken last week is gone.
func TestTrendAndNewRules(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(time.Time{})
	a, _ := newTestAggregator(t, st, store.Config{}, c)
	put := func(at time.Time, rule string, n int) {
		c.Set(at)
		for i := range n {
			a.Observe(&event.Record{Topic: "orders.events", Offset: int64(i)}, &event.Result{Source: "orders", EventType: "order.placed.v1",
				Violations: []event.Violation{{Rule: rule, Severity: event.SeverityError}}})
		}
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	put(mon17.Add(-6*24*time.Hour), "naming.topic", 4) // Tuesday of the previous week: inside the compared span
	put(mon17.Add(-6*24*time.Hour), "key.missing", 5)
	put(mon17.Add(-6*24*time.Hour), "size.blob_field", 2)
	put(mon17.Add(2*24*time.Hour), "naming.topic", 6)
	put(mon17.Add(2*24*time.Hour), "key.missing", 1)
	put(mon17.Add(2*24*time.Hour), "envelope.invalid_uuid", 3)
	r, err := Build(context.Background(), st, Week{2026, 47}, "orders", time.UTC, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"naming.topic": "up 6/4", "key.missing": "down 1/5", "size.blob_field": "gone 0/2", "envelope.invalid_uuid": "new 3/0"}
	for _, rt := range r.Rules {
		got := rt.Trend + " " + i64(rt.Count) + "/" + i64(rt.Previous)
		if got != want[rt.Rule] {
			t.Errorf("%s: %s, want %s", rt.Rule, got, want[rt.Rule])
		}
	}
	if len(r.NewRules) != 1 || r.NewRules[0].Rule != "envelope.invalid_uuid" || r.Summary.PrevViolations != 11 {
		t.Errorf("new rules %+v, previous violations %d", r.NewRules, r.Summary.PrevViolations)
	}
	if len(r.Services) != 1 || r.Services[0].PrevCompliancePct == nil || *r.Services[0].PrevCompliancePct != 0 {
		t.Errorf("service section %+v", r.Services)
	}
}

// TestRenderFormats renders a small hand-checked report in every format:
// 4 records, 3 compliant = 75.0 %.
func TestRenderFormats(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(30 * time.Hour))
	a, _ := newTestAggregator(t, st, store.Config{}, c)
	for i, rules := range [][]event.Violation{nil, nil, {{Rule: "trace.missing_context", Severity: event.SeverityWarning}}, {{Rule: "envelope.missing_field", Severity: event.SeverityError}}} {
		a.Observe(&event.Record{Topic: "pay=ments|<b>", Partition: 2, Offset: int64(40 + i)}, &event.Result{Source: "=cmd()", EventType: "payment.settled.v1", EventID: "id-" + i64(int64(i)), Violations: rules})
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := Build(context.Background(), st, Week{2026, 47}, "", time.UTC, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Render(&b, r, f.Name); err != nil {
			t.Fatalf("render %s: %v", f.Name, err)
		}
		out[f.Name] = b.String()
		if dir := os.Getenv("EVENTWATCH_ARTIFACT_DIR"); dir != "" {
			mustWrite(t, filepath.Join(dir, "report-small."+f.Name), b.String())
		}
	}
	var back Weekly
	if err := json.Unmarshal([]byte(out["json"]), &back); err != nil || back.Summary.Checked != 4 || back.Summary.CompliancePct == nil || *back.Summary.CompliancePct != 75 {
		t.Errorf("json: %v %+v", err, back.Summary)
	}
	rows, err := csv.NewReader(strings.NewReader(out["csv"])).ReadAll()
	if err != nil || rows[1][1] != "summary" || rows[1][8] != "4" || rows[1][10] != "75.0" {
		t.Errorf("csv summary row %v: %v", rows[1], err)
	}
	if strings.Contains(out["csv"], ",=cmd()") {
		t.Errorf("csv cell starting with = not defused:\n%s", out["csv"])
	}
	if !strings.Contains(out["md"], "**75.0 %** of 4 records") || !strings.Contains(out["md"], `pay=ments\|&lt;b&gt;`) {
		t.Errorf("markdown:\n%s", out["md"])
	}
	if !strings.Contains(out["html"], `id="summary-compliance">75.0 %<`) || strings.Contains(out["html"], "<b>") || strings.Contains(out["html"], "ZgotmplZ") {
		t.Errorf("html missing number or not escaped")
	}
	plain := strings.ReplaceAll(out["html"], "<wbr>", "") // names wrap at their separators
	if !strings.Contains(plain, "pay=ments|&lt;b&gt;</td>") || !strings.Contains(plain, "2@43 id-3") || !strings.Contains(out["html"], "pay=<wbr>ments|<wbr>&lt;b&gt;") {
		t.Errorf("html misses the offender reference")
	}
}
