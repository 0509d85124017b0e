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

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
)

func get(t *testing.T, h http.Handler, url, token string) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body), rec.Result().Header
}

// TestRoutes checks the API answers, its defaults and its 400s.
func TestRoutes(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(36 * time.Hour))
	a, _ := newTestAggregator(t, st, store.Config{}, c)
	observeAll(a, dataset(7, 50, c.Now()))
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Set(mon17.Add(8 * 24 * time.Hour)) // Tuesday of W48: W47 is the last complete week
	mux := http.NewServeMux()
	a.Routes(mux)

	code, body, _ := get(t, mux, "/api/v1/reports", "")
	var list struct {
		Default string            `json:"default_week"`
		Weeks   []report.WeekInfo `json:"weeks"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || list.Default != "2026-W47" || len(list.Weeks) != 1 || list.Weeks[0].Checked != 50 {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body, _ = get(t, mux, "/api/v1/reports/weekly", "")
	var r report.Weekly
	if err := json.Unmarshal([]byte(body), &r); code != 200 || err != nil || r.Week != "2026-W47" || r.Summary.Checked != 50 {
		t.Fatalf("default weekly: %d %s", code, body)
	}
	for _, f := range report.Formats {
		code, _, h := get(t, mux, "/api/v1/reports/weekly?week=2026-W47&service=orders&format="+f.Name, "")
		if code != 200 || h.Get("Content-Type") != f.ContentType {
			t.Errorf("format %s: %d %s", f.Name, code, h.Get("Content-Type"))
		}
	}
	bad := map[string]string{
		"/api/v1/reports/weekly?week=2026-W60":   "bad parameter week: invalid week \"2026-W60\": 2026 has weeks 1 to 53",
		"/api/v1/reports/weekly?week=last":       "bad parameter week: invalid week \"last\": want an ISO week like 2026-W47",
		"/api/v1/reports/weekly?week=9999-W52":   "bad parameter week: invalid week \"9999-W52\": the year must be between 1971 and 9998",
		"/api/v1/reports/weekly?week=0000-W01":   "bad parameter week: invalid week \"0000-W01\": the year must be between 1971 and 9998",
		"/api/v1/reports/weekly?format=pdf":      "bad parameter format: unknown format pdf: want json, csv, md or html",
		"/api/v1/reports/weekly?tz=Mars/Olympus": "bad parameter tz: unknown time zone Mars/Olympus",
	}
	for url, want := range bad {
		code, body, _ := get(t, mux, url, "")
		if code != http.StatusBadRequest || strings.TrimSpace(body) != want {
			t.Errorf("%s: %d %q, want 400 %q", url, code, body, want)
		}
	}
}
