//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
)

// TestReportReadsConsistentRealKafka: a reader loop against the weekly
// report while records flow and flushes commit every 500 ms. The mix
// makes every flush internally consistent: every non-compliant record
// breaks exactly one error rule (so checked - compliant equals
// envelope.invalid_json + naming.action_tense, counts kept in two tables),
// and the topics add up to checked. A read that took checked from one
// flush and rule counts from the next breaks that. For
// SQLite and PostgreSQL; on SQLite another process then holds the write
// lock (flushes fail and retry): reads still answer within
// store.ReadTimeout, consistent.
func TestReportReadsConsistentRealKafka(t *testing.T) {
	b, ctx, dir, bin := dmRealKafka(t, 8*time.Minute)
	adm := kadm.NewClient(b.Client(t))
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			topics := exTopicsOf("read" + name)
			for _, topic := range topics {
				dmCreateTopic(ctx, t, adm, topic)
			}
			runDir := filepath.Join(dir, name)
			st := exSQLite(runDir)
			if name == "postgres" {
				st = exPostgres(t)
			}
			want := newExExpect(t, topics, 5_000_000)
			extra := fmt.Sprintf("sample:\n  group_id: read-%s\n  budget_per_partition: 1000000\n  metadata_refresh: 2s\n  commit_interval: 1s\n"+
				"  topics_include: ['huleedu\\.e2eread%s\\..*']\nstore:\n  flush_interval: 500ms\n  dsn: %q\n", name, name, st.dsn)
			r := &exRun{t: t, ctx: ctx, bin: bin, broker: b.Addr(), dir: runDir, extra: extra, topics: topics}
			r.start()
			r.p.d.waitReady(t)
			r.waitAssigned(6)
			prod := &exProducer{t: t, cl: b.Client(t), want: want}
			prod.start(ctx)
			defer prod.stop()
			reads := crReadLoop(ctx, t, r, 20*time.Second, true)
			if name == "sqlite" {
				st.down(t)
				reads += crReadLoop(ctx, t, r, 8*time.Second, false) // flushes fail while locked
				st.up(t)
			}
			prod.stop()
			exWaitReport(ctx, t, r, want)
			t.Logf("%d reads while flushes committed, every one consistent", reads)
		})
	}
}

// crReadLoop reads the weekly report as fast as it answers for d and
// checks every read; it returns how many reads it made. flowing: flushes
// commit meanwhile, so the reads must see several snapshots.
func crReadLoop(ctx context.Context, t *testing.T, r *exRun, d time.Duration, flowing bool) int {
	t.Helper()
	week := exWeek(time.Now())
	n, distinct := 0, map[int64]bool{}
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		start := time.Now()
		rep, err := rpReport(ctx, r.p.d.url, week)
		if took := time.Since(start); took > store.ReadTimeout+time.Second {
			t.Fatalf("report read took %s (err %v), want at most the read timeout %s", took, err, store.ReadTimeout)
		}
		if err != nil {
			if code := crStatus(ctx, r.p.d.url+"/api/v1/reports/weekly?week="+week); code != http.StatusServiceUnavailable {
				t.Fatalf("report read failed with status %d: %v", code, err)
			}
			continue
		}
		crCheck(t, rep)
		distinct[rep.Summary.Checked] = true
	}
	if flowing && len(distinct) < 3 {
		t.Errorf("only %d distinct snapshots in %d reads: flushes did not commit during the loop", len(distinct), n)
	}
	return n
}

// crCheck fails the test when rep's numbers do not come from one flush.
func crCheck(t *testing.T, rep *report.Weekly) {
	t.Helper()
	rules := map[string]int64{}
	for _, rt := range rep.Rules {
		rules[rt.Rule] += rt.Count
	}
	s := rep.Summary
	var topics int64
	for _, c := range rep.Topics {
		topics += c.Checked
	}
	if s.Checked-s.Compliant != rules["envelope.invalid_json"]+rules["naming.action_tense"] || topics != s.Checked {
		t.Fatalf("torn report: checked=%d compliant=%d topics=%d rules=%v", s.Checked, s.Compliant, topics, rules)
	}
}

func crStatus(ctx context.Context, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
