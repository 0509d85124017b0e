package report_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/demo"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
	"github.com/eventwatch/eventwatch/internal/testutil/browser"
)

// demoTraffic is (service, topic, event type, rule, message) with the
// demo's longest names and the messages its rules write.
var demoTraffic = [][5]string{
	{"batch_orchestrator_service", demo.TopicBatch, demo.TypePipelinesConfigured, "naming.action_tense",
		`action "configure_pipelines" of event type "huleedu.batchorchestration.batch.configure_pipelines.v1" is not in the past tense`},
	{"essay_lifecycle_service", demo.TopicEssay, demo.TypeSpellcheckRequested, "trace.missing_correlation_id",
		"no correlation id in meta.correlation_id where the profile requires one"},
	{"spell_checker_service", demo.TopicSpell, demo.TypeSpellcheckCompleted, "size.blob_field",
		"field data.essay_text_content_with_corrections holds 40960 bytes of text; store it and send a storage reference"},
	{"legacy_importer", demo.TopicLegacy, "BatchCreated", "naming.event_type",
		`event type "BatchCreated" in event_type does not match the pattern ^huleedu\.[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+\.v[0-9]+$`},
	{"legacy_importer", demo.TopicTmp, "huleedu.batchorchestration.batch.configure_pipelines.v1", "naming.topic",
		`topic "tmp_Import-Queue" does not match the pattern ^huleedu\.(dev|stg|prod)\.[a-z0-9]+\.[a-z0-9]+$`},
	{"content-service", demo.TopicDLQ, "content.book.published", "dlq.missing_error_context",
		"dead-letter record does not wrap the original event with error context (original_event, error)"},
	{"user-service", demo.TopicUser, "user.account.created", "key.missing",
		`record on topic "user.account" has no key; partition by the resource id`},
}

// TestHTMLUsesWidthAndKeepsWordsWhole renders a week of traffic with the
// demo's longest service, topic and event type names in headless Chromium
// at 1400, 1024 and 800 px (screenshots kept in EVENTWATCH_ARTIFACT_DIR
// when set): the page uses the whole width, no table cell or heading
// breaks a word in the middle, nothing overflows and no column is hidden.
func TestHTMLUsesWidthAndKeepsWordsWhole(t *testing.T) {
	bin := browser.Find(t)
	url := demoNamesServer(t)
	dir := os.Getenv("EVENTWATCH_ARTIFACT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	widths := []int{1400, 1024, 800}
	for _, w := range widths {
		png := filepath.Join(dir, fmt.Sprintf("report-demo-names-%d.png", w))
		browser.Screenshot(t, bin, url, w, 3000, png)
		t.Logf("screenshot: %s", png)
	}
	browser.CheckLayout(t, bin, url, widths...)
	browser.CheckLayout(t, bin, url+"&team=essays", 800)
}

// demoNamesServer fills a store with demoTraffic over two weeks and serves
// the HTML report of the second (?team= scopes it).
func demoNamesServer(t *testing.T) string {
	t.Helper()
	cfg := store.Config{}
	cfg.SetDefaults()
	st, err := store.Open(context.Background(), cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mon := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	at := mon
	led := ledger.New(st, cfg, prometheus.NewRegistry(), nil, ledger.WithClock(func() time.Time { return at }))
	for week := range 2 {
		for i := range 200 {
			at = mon.AddDate(0, 0, 7*(week-1)).Add(time.Duration(i) * 20 * time.Minute)
			d := demoTraffic[i%len(demoTraffic)]
			res := event.Result{Source: d[0], EventType: d[2], EventID: fmt.Sprintf("0b7c1d2e-%04d-4a5b-8c9d-0e1f2a3b4c5d", i), Profile: "huleedu"}
			if i%3 != 0 {
				res.Violations = []event.Violation{{Rule: d[3], Severity: event.SeverityError, Message: d[4], Field: "data.essay_text_content_with_corrections"}}
			}
			led.Observe(&event.Record{Topic: d[1], Partition: int32(i % 6), Offset: int64(1000000 + i)}, &res)
		}
		if err := led.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	owners := team.New([]team.Team{{Name: "essays", Services: []string{"batch_orchestrator_service", "essay_lifecycle_service", "spell_checker_service"}}}, nil)
	now := mon.Add(4*24*time.Hour + 13*time.Hour)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := report.BuildFor(r.Context(), st, report.Request{Week: report.Week{Year: 2026, Num: 47}, Team: r.URL.Query().Get("team"),
			Loc: time.UTC, Now: now, Owners: owners})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := report.Render(w, rep, "html"); err != nil {
			t.Errorf("render: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/?week=2026-W47"
}
