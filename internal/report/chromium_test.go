package report

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/browser"
)

// TestHTMLInChromium serves a week of generated data through the real
// routes, loads the HTML report in headless Chromium and checks the numbers
// a reader looks for are in the rendered DOM, then writes a screenshot
// (kept in EVENTWATCH_ARTIFACT_DIR when set).
func TestHTMLInChromium(t *testing.T) {
	bin := browser.Find(t)
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17)
	a, _ := newTestAggregator(t, st, store.Config{}, c, ledger.WithClusterSource(fixedCluster{}))
	c.Set(mon17.Add(-3 * 24 * time.Hour)) // a previous week to compare with
	observeAll(a, dataset(39, 1500, c.Now()))
	for day := range 7 {
		c.Set(mon17.Add(time.Duration(day)*24*time.Hour + 12*time.Hour))
		observeAll(a, dataset(uint64(40+day), 400+50*day, c.Now()))
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Build(context.Background(), st, Week{2026, 47}, "", time.UTC, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := htmlServer(t, st, c.Now())
	url := srv.URL + "/?week=2026-W47"

	dom := browser.Run(t, bin, url, "--dump-dom")
	want := []string{
		`id="summary-compliance">` + pctPtr(r.Summary.CompliancePct) + "<",
		`id="summary-checked">` + i64(r.Summary.Checked) + "<",
		`id="summary-violations">` + i64(r.Summary.Violations) + "<",
		"orders.dlq", "checkout-consumer", ">" + r.Comparison.Label() + "<", r.Comparison.Sentence(),
		r.Comparison.Label() + " " + pctPtr(r.Summary.PrevCompliancePct),
	}
	for _, s := range r.Services {
		want = append(want, "Service "+s.Name+": "+f1(s.CompliancePct)+" % compliant")
	}
	// the WebSocket section is the week's, stored through the ledger (one
	// probe per flush of each endpoint)
	if len(r.WebSockets) != 2 || r.WebSockets[0].Probes == 0 {
		t.Fatalf("websockets %+v, want billing and orders with the week's probes", r.WebSockets)
	}
	b := r.WebSockets[0]
	want = append(want, "<h3>WebSocket endpoints</h3>", "<h4>Service billing</h4>", "<h4>Service orders</h4>",
		fmt.Sprintf("non-compliant in %d of %d probes (0 failed)", b.Probes, b.Probes), fmt.Sprintf("websocket.auth_missing ×%d", b.Probes),
		fmt.Sprintf("compliant in all %d probes", r.WebSockets[1].Probes))
	for _, w := range want {
		if !strings.Contains(dom, w) && !strings.Contains(strings.ReplaceAll(dom, "<wbr>", ""), w) {
			t.Errorf("rendered DOM lacks %q", w)
		}
	}
	if n := strings.Count(dom, "<svg"); n < 2+len(r.Services) {
		t.Errorf("%d inline charts, want at least %d", n, 2+len(r.Services))
	}

	dir := os.Getenv("EVENTWATCH_ARTIFACT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	mustWrite(t, filepath.Join(dir, "report-2026-W47.html"), dom)
	for _, w := range []int{1400, 800} {
		png := filepath.Join(dir, fmt.Sprintf("report-2026-W47-%d.png", w))
		browser.Screenshot(t, bin, url, w, 2600, png)
		t.Logf("screenshot: %s", png)
	}
	browser.NoHorizontalScroll(t, bin, url, 1400, 800)
	browser.NoHorizontalScroll(t, bin, url+"&service=orders", 800)
	// The per-service page, for a reader's check of the service section.
	browser.Screenshot(t, bin, url+"&service=orders", 1100, 2600, filepath.Join(dir, "report-2026-W47-orders.png"))
}

// htmlServer serves the HTML report of ?week= (scoped by ?service= and
// ?team=) built from st, as the report API does.
func htmlServer(t *testing.T, st store.Store, now time.Time) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		wk, err := ParseWeek(q.Get("week"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rep, err := BuildFor(r.Context(), st, Request{Week: wk, Service: q.Get("service"), Team: q.Get("team"), Loc: time.UTC, Now: now})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := Render(w, rep, "html"); err != nil {
			t.Errorf("render: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fixedCluster reports the same flow-health numbers for every window.
type fixedCluster struct{}

func (fixedCluster) DLQGrowth(_, _ time.Time) map[string]int64 {
	return map[string]int64{"orders.dlq": 12, "billing.dlq": 3}
}

func (fixedCluster) LagBreach(from, to time.Time) map[string]ledger.LagBreach {
	return map[string]ledger.LagBreach{"checkout-consumer": {Breach: to.Sub(from) / 4, Err: to.Sub(from) / 8, Observed: to.Sub(from),
		Lost: 7, AtRisk: to.Sub(from) / 10}}
}

// WebSockets reports, for every window, one probe of each of two
// WebSocket endpoints (a ledger.WebSocketSource): the orders endpoint
// compliant, the billing one accepting connections without a token.
func (fixedCluster) WebSockets(_, _ time.Time) []ledger.WebSocketTarget {
	return []ledger.WebSocketTarget{
		{Service: "orders", Target: "orders-live", Probes: 1, Messages: 40, MessagesCompliant: 40},
		{Service: "billing", Target: "billing-live", Probes: 1, NonCompliant: 1, Messages: 40, MessagesCompliant: 0,
			Violations: []ledger.WebSocketRule{{Rule: "websocket.auth_missing", Severity: "error", Count: 1}, {Rule: "naming.event_type", Severity: "error", Count: 40}}},
	}
}

func (fixedCluster) Propagation(_, _ time.Time) map[string]ledger.Coverage {
	return map[string]ledger.Coverage{"orders": {Hops: 100, Propagated: 93}, "billing": {Hops: 40, Propagated: 40}}
}
