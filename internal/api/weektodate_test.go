package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
)

// TestWeeklyWeekToDateOnFixedClock serves the report API on a fixed clock
// (Tuesday 12:30 of 2026-W47) over a store with 10 violations on the
// previous Monday, 100 on the previous Friday and 20 this Monday: the JSON
// compares 20 with 10 (the same elapsed span), says so, and the Markdown
// says it in words.
func TestWeeklyWeekToDateOnFixedClock(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(time.Time{})
	a, _ := newTestAggregator(t, st, store.Config{}, c)
	for _, p := range []struct {
		at time.Time
		n  int
	}{{mon17.AddDate(0, 0, -7).Add(9 * time.Hour), 10}, {mon17.AddDate(0, 0, -3).Add(9 * time.Hour), 100}, {mon17.Add(9 * time.Hour), 20}} {
		c.Set(p.at)
		for i := range p.n {
			a.Observe(&event.Record{Topic: "orders.events", Offset: int64(i)}, &event.Result{Source: "orders", EventType: "order.placed.v1",
				Violations: []event.Violation{{Rule: "naming.topic", Severity: event.SeverityError}}})
		}
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(mon17.Add(36*time.Hour + 30*time.Minute))
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var r report.Weekly
	if code := getJSON(t, srv.URL+"/api/v1/reports/weekly", &r); code != http.StatusOK {
		t.Fatalf("weekly: %d", code)
	}
	if r.Week != "2026-W47" || !r.InProgress || !r.Comparison.SameSpan || r.Comparison.To.Format(time.RFC3339) != "2026-11-10T13:00:00Z" ||
		len(r.Rules) != 1 || r.Rules[0].Count != 20 || r.Rules[0].Previous != 10 || r.Rules[0].Trend != report.TrendUp || r.Summary.PrevViolations != 10 {
		t.Errorf("week to date: comparison %+v rules %+v summary %+v", r.Comparison, r.Rules, r.Summary)
	}
	resp, err := http.Get(srv.URL + "/api/v1/reports/weekly?format=md&service=orders")
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Compared with the same span of the previous week: Mon 9 Nov 00:00 to Tue 10 Nov 13:00 (2026-W46), not the whole week.",
		"| naming.topic | error | 20 | 10 | up (+10) |", "- Violations: 20 (previous week, same span 10)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	c.Set(mon17.AddDate(0, 0, 9)) // the week has ended: the whole previous week
	var done report.Weekly
	getJSON(t, srv.URL+"/api/v1/reports/weekly?week=2026-W47", &done)
	if done.Comparison.SameSpan || done.Rules[0].Previous != 110 || done.Rules[0].Trend != report.TrendDown {
		b, _ := json.Marshal(done.Rules)
		t.Errorf("complete week: %+v %s", done.Comparison, b)
	}
}
