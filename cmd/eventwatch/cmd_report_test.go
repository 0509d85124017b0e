package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/api"
	"github.com/eventwatch/eventwatch/internal/daemon"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// reportServer serves the real report API over a SQLite store holding
// records of the current week, behind a bearer token.
func reportServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	cfg := store.Config{}
	cfg.SetDefaults()
	st := storetest.OpenSQLite(t, t.TempDir())
	agg := ledger.New(st, cfg, prometheus.NewRegistry(), nil)
	for i := range 8 {
		var v []event.Violation
		if i%4 == 0 {
			v = []event.Violation{{Rule: "envelope.missing_field", Severity: event.SeverityError}}
		}
		agg.Observe(&event.Record{Topic: "orders.events", Offset: int64(i)}, &event.Result{Source: "orders", EventType: "order.placed.v1", Violations: v})
	}
	if err := agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.NewAPI(st, prometheus.NewRegistry(), nil).Routes(mux)
	srv := httptest.NewServer(daemon.RequireToken("tok-123", mux))
	t.Cleanup(srv.Close)
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, tokFile
}

func TestCmdReport(t *testing.T) {
	srv, tok := reportServer(t)
	week := report.WeekOf(time.Now(), time.UTC).String()
	tests := []struct {
		args []string
		code int
		out  string // substring of stdout (code 0) or stderr
	}{
		{[]string{"--url", srv.URL, "--week", week, "--token-file", tok}, 0, "**75.0 %** of 8 records checked"},
		{[]string{"--url", srv.URL, "--week", week, "--token-file", tok, "--format", "csv", "--service", "orders"}, 0, week + ",service,orders,,,,,,8,6,75.0,2"},
		{[]string{"--url", srv.URL, "--token-file", tok, "--list"}, 0, `"week":"` + week + `"`},
		{[]string{"--url", srv.URL, "--week", week}, 1, "401 Unauthorized: missing or invalid bearer token"},
		{[]string{"--url", srv.URL, "--token-file", tok, "--tz", "Mars/Olympus"}, 2, "bad parameter tz"},
		{[]string{"--url", srv.URL, "--token-file", tok, "--team", "nosuchteam"}, 2, `404 Not Found: unknown team "nosuchteam"; known teams: orders`},
		{[]string{"--url", srv.URL, "--token-file", tok, "--service", "ordres"}, 2, `404 Not Found: unknown service "ordres"; did you mean orders?`},
		{[]string{"--week", "2025-W53"}, 2, "--week: invalid week \"2025-W53\": 2025 has weeks 1 to 52"},
		{[]string{"--format", "pdf"}, 2, "--format must be json, csv, md or html"},
		{[]string{"--url", "ftp://x"}, 2, "--url must be an http(s) URL"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"report"}, tt.args...), &stdout, &stderr)
		got := stdout.String()
		if tt.code != 0 {
			got = stderr.String()
		}
		if code != tt.code || !strings.Contains(got, tt.out) {
			t.Errorf("report %v = %d\nstdout: %s\nstderr: %s\nwant %d and %q", tt.args, code, stdout.String(), stderr.String(), tt.code, tt.out)
		}
	}
}

// TestCmdReportWeekToDate: `eventwatch report` against the API on a fixed
// clock (Wednesday 10:00 of 2026-W47) prints the week-to-date comparison
// with the same span of the previous week (5 vs 2 violations, up), not
// with the whole previous week (which also had 40 on its Saturday).
func TestCmdReportWeekToDate(t *testing.T) {
	cfg := store.Config{}
	cfg.SetDefaults()
	st := storetest.OpenSQLite(t, t.TempDir())
	mon := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	now := mon.Add(2*24*time.Hour + 10*time.Hour)
	at := mon
	led := ledger.New(st, cfg, prometheus.NewRegistry(), nil, ledger.WithClock(func() time.Time { return at }))
	for _, p := range []struct {
		at time.Time
		n  int
	}{{mon.AddDate(0, 0, -7).Add(8 * time.Hour), 2}, {mon.AddDate(0, 0, -2), 40}, {mon.Add(8 * time.Hour), 5}} {
		at = p.at
		for i := range p.n {
			led.Observe(&event.Record{Topic: "orders.events", Offset: int64(i)}, &event.Result{Source: "orders", EventType: "order.placed.v1",
				Violations: []event.Violation{{Rule: "key.missing", Severity: event.SeverityError}}})
		}
		if err := led.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	api.NewAPI(st, prometheus.NewRegistry(), nil, api.WithClock(func() time.Time { return now })).Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"report", "--url", srv.URL, "--format", "md"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"In progress: week to date. Compared with the same span of the previous week: Mon 9 Nov 00:00 to Wed 11 Nov 10:00 (2026-W46), not the whole week.",
		"| key.missing | error | 5 | 2 | up (+3) |", "| 2026-W47 (to date) |"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
}
