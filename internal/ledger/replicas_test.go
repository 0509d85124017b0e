package ledger

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
	"github.com/eventwatch/eventwatch/internal/testutil/tier"
)

// TestReplicasShareOnePostgres runs three aggregators (three replicas) on
// one PostgreSQL database, observing overlapping keys and flushing at the
// same moments: the report holds the sum of what each saw, and the same
// numbers as one aggregator that saw everything.
func TestReplicasShareOnePostgres(t *testing.T) {
	tier.Slow(t, "starts PostgreSQL")
	dsn := pgtest.DSN(t)
	c := storetest.NewClock(mon17.Add(3 * time.Hour))
	var all []observation
	var aggs []*Ledger
	for i := range 3 {
		a, _ := newTestAggregator(t, storetest.OpenDSN(t, dsn), store.Config{}, c)
		aggs = append(aggs, a)
		obs := dataset(uint64(100+i), 700, c.Now())
		observeAll(a, obs)
		all = append(all, obs...)
	}
	for round := range 3 {
		var wg sync.WaitGroup
		for _, a := range aggs {
			wg.Go(func() {
				if err := a.Flush(context.Background()); err != nil {
					t.Errorf("round %d: concurrent flush: %v", round, err)
				}
			})
		}
		wg.Wait()
		for i, a := range aggs {
			observeAll(a, dataset(uint64(200+10*round+i), 100, c.Now()))
			all = append(all, dataset(uint64(200+10*round+i), 100, c.Now())...)
		}
	}
	for _, a := range aggs {
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r, err := report.Build(context.Background(), storetest.OpenDSN(t, dsn), report.Week{Year: 2026, Num: 47}, "", time.UTC, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := expect(all)
	if r.Summary.Checked != want.Checked || r.Summary.Compliant != want.Compliant || r.Summary.Violations != want.Violations {
		t.Fatalf("shared store: %d/%d/%d, want %d/%d/%d", r.Summary.Checked, r.Summary.Compliant, r.Summary.Violations, want.Checked, want.Compliant, want.Violations)
	}
	checkTopics(t, r.Topics, want.Topic)
	checkPostgresHasNoPayload(t, dsn)
}

// checkPostgresHasNoPayload reads every row of every table as text and
// looks for the marker the dataset plants in values.
func checkPostgresHasNoPayload(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, table := range []string{"record_hours", "violation_hours", "violation_examples", "cluster_hours", "schema_migrations"} {
		var dump sql.NullString
		if err := db.QueryRow(`SELECT string_agg(t::text, ' ') FROM ` + table + ` t`).Scan(&dump); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		if strings.Contains(dump.String, "PAYLOAD-MARKER") {
			t.Errorf("table %s holds the payload marker", table)
		}
		if table == "violation_examples" && !strings.Contains(dump.String, "evt-") {
			t.Errorf("examples table holds no references: %.200s", dump.String)
		}
	}
}

// checkTopics compares the report's per-topic compliance with the counts
// the test itself produced.
func checkTopics(t *testing.T, got []report.Compliance, want map[string][2]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d topics, want %d", len(got), len(want))
	}
	for _, g := range got {
		if w := want[g.Name]; g.Checked != w[0] || g.Compliant != w[1] {
			t.Errorf("topic %s: checked %d compliant %d, want %d %d", g.Name, g.Checked, g.Compliant, w[0], w[1])
		}
	}
}
