package report

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/store"
)

// weekToDateStore holds, on a fixed clock, 10 violating records on the
// Monday of 2026-W46 and 100 on its Friday, and 20 on the Monday of
// 2026-W47 (plus 20 compliant ones each Monday).
func weekToDateStore(t *testing.T) store.Store {
	t.Helper()
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(time.Time{})
	a, _ := newTestAggregator(t, st, store.Config{}, c)
	put := func(at time.Time, n int, rule string) {
		c.Set(at)
		for i := range n {
			var v []event.Violation
			if rule != "" {
				v = []event.Violation{{Rule: rule, Severity: event.SeverityError}}
			}
			a.Observe(&event.Record{Topic: "orders.events", Offset: int64(i)}, &event.Result{Source: "orders", EventType: "order.placed.v1", Violations: v})
		}
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	prevMon := mon17.AddDate(0, 0, -7)
	put(prevMon.Add(9*time.Hour), 10, "naming.topic")
	put(prevMon.Add(9*time.Hour), 20, "")
	put(prevMon.AddDate(0, 0, 4).Add(9*time.Hour), 100, "naming.topic")
	put(mon17.Add(9*time.Hour), 20, "naming.topic")
	put(mon17.Add(9*time.Hour), 20, "")
	return st
}

// TestWeekToDateComparedWithSameSpan: on Tuesday 12:30 of 2026-W47 the
// running week is compared with 2026-W46 up to Tuesday 13:00 (the same
// elapsed span, to the hour): 20 violations against 10 is "up", not "down
// (-90)" against the whole week, the summary and the service say the same,
// and every rendering says what was compared. Once the week has ended the
// whole previous week is compared.
func TestWeekToDateComparedWithSameSpan(t *testing.T) {
	st := weekToDateStore(t)
	now := mon17.Add(36*time.Hour + 30*time.Minute) // Tue 17 Nov 12:30
	r, err := Build(context.Background(), st, Week{2026, 47}, "", time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Comparison
	if !r.InProgress || !c.SameSpan || c.Week != "2026-W46" || !c.From.Equal(mon17.AddDate(0, 0, -7)) || !c.To.Equal(mon17.AddDate(0, 0, -7).Add(37*time.Hour)) {
		t.Fatalf("comparison %+v", c)
	}
	if len(r.Rules) != 1 || r.Rules[0].Count != 20 || r.Rules[0].Previous != 10 || r.Rules[0].Trend != TrendUp || r.Rules[0].Change != 10 {
		t.Errorf("rules %+v, want naming.topic 20 vs 10 up", r.Rules)
	}
	s := r.Summary
	if s.PrevViolations != 10 || s.PrevCompliancePct == nil || *s.PrevCompliancePct != 100*20.0/30 || *s.CompliancePct != 50 {
		t.Errorf("summary %+v", s)
	}
	if len(r.Services) != 1 || r.Services[0].PrevCompliancePct == nil || *r.Services[0].PrevCompliancePct != 100*20.0/30 {
		t.Errorf("service %+v", r.Services)
	}
	if last := r.Trend[len(r.Trend)-1]; !last.InProgress || r.Trend[len(r.Trend)-2].InProgress || r.Trend[len(r.Trend)-2].Violations["naming.topic"] != 110 {
		t.Errorf("trend %+v: the running week is marked, the previous one whole", r.Trend[len(r.Trend)-2:])
	}
	sentence := "Compared with the same span of the previous week: Mon 9 Nov 00:00 to Tue 10 Nov 13:00 (2026-W46), not the whole week."
	wants := map[string][]string{
		"md":   {sentence, "| rule | severity | this week to date | previous week, same span | trend |", "| naming.topic | error | 20 | 10 | up (+10) |", "(previous week, same span 66.7 %)", "2026-W47 (to date)"},
		"html": {sentence, "previous week, same span 66.7 %", "violations (previous week, same span 10)", "Violations by rule, this week to date and previous week, same span"},
		"csv":  {"2026-W47,comparison,,,,,,,,,,,,,2026-11-09T00:00:00Z/2026-11-10T13:00:00Z,2026-W46"},
		"json": {`"same_span": true`, `"to": "2026-11-10T13:00:00Z"`, `"in_progress": true`},
	}
	for format, ws := range wants {
		var b bytes.Buffer
		if err := Render(&b, r, format); err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s lacks %q", format, w)
			}
		}
	}

	r, err = Build(context.Background(), st, Week{2026, 47}, "", time.UTC, mon17.AddDate(0, 0, 8))
	if err != nil {
		t.Fatal(err)
	}
	if r.Comparison.SameSpan || !r.Comparison.To.Equal(mon17) || r.Rules[0].Previous != 110 || r.Rules[0].Trend != TrendDown {
		t.Errorf("complete week: comparison %+v, rules %+v", r.Comparison, r.Rules)
	}
}

// TestComparisonSpans: the compared span at a few instants of a week,
// including its first minutes, a whole hour and a daylight-saving week.
func TestComparisonSpans(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Skip("no tzdata")
	}
	for _, tt := range []struct {
		w        Week
		loc      *time.Location
		now      time.Time
		sameSpan bool
		to       time.Time
	}{
		{Week{2026, 47}, time.UTC, mon17.Add(time.Minute), true, mon17.AddDate(0, 0, -7).Add(time.Hour)},
		{Week{2026, 47}, time.UTC, mon17.Add(2 * time.Hour), true, mon17.AddDate(0, 0, -7).Add(2 * time.Hour)},
		{Week{2026, 47}, time.UTC, mon17.AddDate(0, 0, 7), false, mon17},
		{Week{2026, 46}, time.UTC, mon17.Add(time.Hour), false, mon17.AddDate(0, 0, -7)},
		// 2026-W44 starts Mon 26 Oct in Oslo; W43 had 169 hours (the clocks went back on Sun 25 Oct).
		{Week{2026, 44}, oslo, time.Date(2026, 10, 27, 10, 15, 0, 0, oslo), true, time.Date(2026, 10, 20, 11, 0, 0, 0, oslo)},
	} {
		c := comparisonOf(tt.w, tt.loc, tt.now)
		if c.SameSpan != tt.sameSpan || !c.To.Equal(tt.to) {
			t.Errorf("%s at %s: %+v, want same span %t to %s", tt.w, tt.now, c, tt.sameSpan, tt.to)
		}
	}
}
