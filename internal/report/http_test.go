package report

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	st := openSQLite(t, t.TempDir())
	c := &clock{t: mon17.Add(36 * time.Hour)}
	a, _ := newTestAggregator(t, st, store.Config{}, c)
	observeAll(a, dataset(7, 50, c.now()))
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.set(mon17.Add(8 * 24 * time.Hour)) // Tuesday of W48: W47 is the last complete week
	mux := http.NewServeMux()
	a.Routes(mux)

	code, body, _ := get(t, mux, "/api/v1/reports", "")
	var list struct {
		Default string     `json:"default_week"`
		Weeks   []WeekInfo `json:"weeks"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || list.Default != "2026-W47" || len(list.Weeks) != 1 || list.Weeks[0].Checked != 50 {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body, _ = get(t, mux, "/api/v1/reports/weekly", "")
	var r Weekly
	if err := json.Unmarshal([]byte(body), &r); code != 200 || err != nil || r.Week != "2026-W47" || r.Summary.Checked != 50 {
		t.Fatalf("default weekly: %d %s", code, body)
	}
	for _, f := range Formats {
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

func TestConfigRejectsMovedTokenKeys(t *testing.T) {
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{TokenFile: "/x"}, "reports.token: the token keys moved to the http section (http.token, http.token_file, http.protect_metrics)"},
		{Config{TimeZone: "Mars/Olympus"}, "reports.time_zone: unknown time zone Mars/Olympus"},
	} {
		tt.c.SetDefaults()
		if err := tt.c.Validate(); err == nil || err.Error() != tt.want {
			t.Errorf("Validate = %v, want %q", err, tt.want)
		}
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	mustWrite(t, file, "  abc\n")
	empty := filepath.Join(dir, "empty")
	mustWrite(t, empty, "")
	if tok, err := ReadTokenFile(file); tok != "abc" || err != nil {
		t.Errorf("token %q %v", tok, err)
	}
	if _, err := ReadTokenFile(empty); err == nil || err.Error() != "token file "+empty+" is empty" {
		t.Errorf("empty file: %v", err)
	}
}

// TestPayloadNeverStored plants a marker in record values and checks it
// reaches neither the database files nor any rendering. (Violation messages
// are stored as examples: the audit rules write them from field paths and
// envelope identifiers only, which internal/daemon's privacy test checks
// end to end with the real engine.)
func TestPayloadNeverStored(t *testing.T) {
	dir := t.TempDir()
	st := openSQLite(t, dir)
	c := &clock{t: mon17.Add(time.Hour)}
	a, _ := newTestAggregator(t, st, store.Config{MaxExamples: 100}, c)
	obs := dataset(3, 500, c.now())
	observeAll(a, obs)
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	const marker = "PAYLOAD-MARKER-7f3a"
	if !bytes.Contains(obs[0].rec.Value, []byte(marker)) {
		t.Fatal("marker not planted")
	}
	r, err := Build(context.Background(), st, Week{2026, 47}, "", time.UTC, c.now())
	if err != nil || len(r.TopOffenders) == 0 || len(r.TopOffenders[0].Examples) == 0 {
		t.Fatalf("no references stored: %v", err)
	}
	st.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no database files to inspect")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("%s contains the payload marker", f)
		}
	}
	var out bytes.Buffer
	for _, f := range Formats {
		if err := Render(&out, r, f.Name); err != nil {
			t.Fatal(err)
		}
	}
	if bytes.Contains(out.Bytes(), []byte(marker)) {
		t.Error("a rendered report contains the payload marker")
	}
}
