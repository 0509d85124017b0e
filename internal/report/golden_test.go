package report

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"bytes"
	"context"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// fixedReport is a report built from a fixed data set: two weeks of one
// team's and one other service's traffic, a rule broken under two
// profiles, a DLQ and a lagging group, scoped to nothing.
func fixedReport(t *testing.T) *Weekly {
	t.Helper()
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(-7 * 24 * time.Hour))
	a, _ := newTestAggregator(t, st, store.Config{MaxExamples: 2}, c, ledger.WithClusterSource(fixedCluster{}))
	for week := range 2 {
		for i := range 12 + 4*week {
			c.Set(mon17.Add(time.Duration(week-1)*7*24*time.Hour + time.Duration(i)*time.Hour))
			rec, res := fixedRecord(week, i)
			a.Observe(&rec, &res)
		}
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	owners := team.New([]team.Team{{Name: "payments", Services: []string{"orders", "billing"}}}, nil)
	r, err := BuildFor(context.Background(), st, Request{Week: Week{2026, 47}, Loc: time.UTC, Now: mon17.Add(50 * time.Hour), Owners: owners})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixedRecord is record i of week w (0: the previous week, 1: this one).
func fixedRecord(w, i int) (event.Record, event.Result) {
	svc := []string{"orders", "billing", "legacy"}[i%3]
	topic := map[string]string{"orders": "orders.events", "billing": "billing.events", "legacy": "legacy_import"}[svc]
	rec := event.Record{Topic: topic, Partition: int32(i % 2), Offset: int64(100*w + i), Timestamp: mon17.Add(time.Duration(i) * time.Minute)}
	profile := "authorworks"
	if svc == "legacy" {
		profile = "huleedu"
	}
	res := event.Result{Source: svc, EventType: svc + ".thing.happened", EventID: "evt-" + i64(int64(100*w+i)), Profile: profile}
	if w == 1 && i == 12 {
		res.SchemaID = 42 // a Confluent-framed value: its examples show the schema id
	}
	switch {
	case i%4 == 0:
		res.Violations = append(res.Violations, event.Violation{Rule: "envelope.missing_field", Severity: event.SeverityError,
			Message: "required field meta.id is missing", Field: "meta.id"})
	case i%4 == 1 && w == 1:
		res.Violations = append(res.Violations, event.Violation{Rule: "key.missing", Severity: event.SeverityWarning,
			Message: `record on topic "` + topic + `" has no key; partition by the resource id`})
	}
	return rec, res
}

// TestGoldenRenderings compares the four renderings of the fixed report
// with testdata/golden/weekly.* (go test ./internal/report -run Golden
// -update rewrites them; review the diff).
func TestGoldenRenderings(t *testing.T) {
	r := fixedReport(t)
	for _, f := range Formats {
		var b bytes.Buffer
		if err := f.Render(&b, r); err != nil {
			t.Fatalf("render %s: %v", f.Name, err)
		}
		compareGolden(t, filepath.Join("testdata", "golden", "weekly."+f.Name), b.Bytes())
	}
}

// TestTeamReportHoldsOnlyItsOwn: the payments team's report (orders and
// billing) has none of legacy's topics, rules or examples, keeps its own
// dead-letter topics and no group it does not own.
func TestTeamReportHoldsOnlyItsOwn(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17)
	a, _ := newTestAggregator(t, st, store.Config{}, c, ledger.WithClusterSource(fixedCluster{}))
	for i := range 30 {
		c.Set(mon17.Add(time.Duration(i) * time.Hour))
		rec, res := fixedRecord(1, i)
		a.Observe(&rec, &res)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	owners := team.New([]team.Team{{Name: "payments", Services: []string{"orders", "billing"}}}, nil)
	r, err := BuildFor(context.Background(), st, Request{Week: Week{2026, 47}, Team: "payments", Loc: time.UTC, Now: c.Now(), Owners: owners})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, f := range Formats {
		if err := f.Render(&out, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, foreign := range []string{"legacy", "checkout-consumer", "huleedu"} {
		if bytes.Contains(out.Bytes(), []byte(foreign)) {
			t.Errorf("the payments report mentions %s", foreign)
		}
	}
	if len(r.Services) != 2 || r.Services[0].Team != "payments" || len(r.DLQ) != 2 || len(r.Lag) != 0 || len(r.TeamServices) != 2 {
		t.Errorf("payments report: %d services (team %q), DLQs %v, lag %v, team services %v",
			len(r.Services), r.Services[0].Team, r.DLQ, r.Lag, r.TeamServices)
	}
	svc, err := BuildFor(context.Background(), st, Request{Week: Week{2026, 47}, Service: "orders", Loc: time.UTC, Now: c.Now(), Owners: owners})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Services) != 1 || len(svc.DLQ) != 1 || svc.DLQ[0].Topic != "orders.dlq" || len(svc.Propagation) != 1 {
		t.Errorf("orders report: services %d, DLQs %v, propagation %v", len(svc.Services), svc.DLQ, svc.Propagation)
	}
}

// TestNoDataIsNotZero: a week without records says "no data" in every
// rendering and never shows 0 % compliance; the default week of an empty
// store is the current one, in progress.
func TestNoDataIsNotZero(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	now := mon17.Add(50 * time.Hour)
	r, err := BuildFor(context.Background(), st, Request{Week: DefaultWeek(nil, now, time.UTC), Loc: time.UTC, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if r.Week != "2026-W47" || !r.InProgress || r.Summary.CompliancePct != nil || r.HasData() {
		t.Fatalf("empty report: week %s, in progress %v, compliance %v", r.Week, r.InProgress, r.Summary.CompliancePct)
	}
	out := map[string]string{}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := f.Render(&b, r); err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b.String()
	}
	if !strings.Contains(out["html"], `id="no-data"`) || !strings.Contains(out["html"], `id="summary-compliance">no data<`) || strings.Contains(out["html"], "0.0 %") {
		t.Errorf("html does not say no data:\n%.3000s", out["html"])
	}
	if !strings.Contains(out["md"], "Compliance: **no data**") || !strings.Contains(out["json"], `"compliance_pct": null`) {
		t.Errorf("md/json do not say no data")
	}
}
