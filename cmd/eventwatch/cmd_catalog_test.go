package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
)

// catalogServer serves the real discovery route over a learner fed with
// AuthorWorks traffic (book events from content-service on "content").
func catalogServer(t *testing.T) *httptest.Server {
	t.Helper()
	eng := newCatalogTestEngine(t)
	l := catalog.NewLearner("data", nil)
	for _, v := range []string{compliantBook("bk-1"), compliantBook("bk-2")} {
		rec, res := checkRecord(eng, "content", v)
		l.Observe(rec, res)
	}
	mux := http.NewServeMux()
	catalog.Routes(mux, func(context.Context) (*catalog.Estate, error) {
		return &catalog.Estate{State: l.State(), Profile: "authorworks", DataPath: "data", CorrelationPath: "meta.correlation_id"}, nil
	})
	mux.HandleFunc("GET /broken/api/v1/catalog/asyncapi", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func runCatalog(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCatalogDiscover(t *testing.T) {
	srv := catalogServer(t)
	code, out, stderr := runCatalog("catalog", "discover", "--url", srv.URL)
	if code != 0 || !strings.HasPrefix(out, "asyncapi: 3.0.0") || !strings.Contains(out, "content.book.published") {
		t.Fatalf("discover = %d %q %s", code, out, stderr)
	}
	file := filepath.Join(t.TempDir(), "estate.json")
	if code, _, stderr := runCatalog("catalog", "discover", "--url", srv.URL, "--out", file); code != 0 {
		t.Fatalf("discover --out = %d %s", code, stderr)
	}
	body, err := os.ReadFile(file)
	if err != nil || !json.Valid(body) {
		t.Fatalf("--out FILE.json is not JSON: %v %.100s", err, body)
	}
	for _, args := range [][]string{{"--url", "ftp://x"}, {"--format", "xml"}, {"extra"}} {
		if code, _, _ := runCatalog(append([]string{"catalog", "discover"}, args...)...); code != 2 {
			t.Errorf("discover %v = %d, want 2", args, code)
		}
	}
	if code, _, _ := runCatalog("catalog", "discover", "--url", srv.URL+"/broken"); code != 1 {
		t.Errorf("a failing server = %d, want 1", code)
	}
	if code, _, _ := runCatalog("catalog", "nope"); code != 2 {
		t.Errorf("unknown subcommand = %d, want 2", code)
	}
}

// TestCatalogDiffExitCodes: 0 when the declared catalog matches what was
// seen (the discovered document itself, as a FILE catalog), 1 on
// differences, 2 on usage or input errors.
func TestCatalogDiffExitCodes(t *testing.T) {
	srv := catalogServer(t)
	file := filepath.Join(t.TempDir(), "estate.yaml")
	if code, _, stderr := runCatalog("catalog", "discover", "--url", srv.URL, "--out", file); code != 0 {
		t.Fatal(stderr)
	}
	if code, out, stderr := runCatalog("catalog", "diff", "--catalog", file, "--url", srv.URL); code != 0 || !strings.Contains(out, "0 difference(s)") {
		t.Fatalf("diff against itself = %d %s %s", code, out, stderr)
	}
	dir := filepath.Join("..", "..", "examples", "catalog", "authorworks")
	code, out, _ := runCatalog("catalog", "diff", "--catalog", dir, "--url", srv.URL, "--format", "json")
	var res struct {
		Count       int                  `json:"count"`
		Differences []catalog.Difference `json:"differences"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.Count == 0 {
		t.Fatalf("diff against the example catalog = %d %s", code, out)
	}
	kinds := map[string]bool{}
	for _, d := range res.Differences {
		kinds[d.Kind] = true
	}
	if !kinds[catalog.DiffNotSeen] || !kinds[catalog.DiffConsumer] {
		t.Errorf("kinds = %v (user.account.created is never seen; no group reads content)", kinds)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("asyncapi: 3.0.0\ncomponents: {messages: {M: {payload: 1}}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--url", srv.URL}, {"--catalog", bad, "--url", srv.URL}, {"--catalog", "/nonexistent", "--url", srv.URL}, {"--catalog", dir, "--url", "x"}} {
		code, _, stderr := runCatalog(append([]string{"catalog", "diff"}, args...)...)
		if code != 2 {
			t.Errorf("diff %v = %d, want 2", args, code)
		}
		if args[0] == "--catalog" && args[1] == bad && !strings.Contains(stderr, "components.messages.M.payload: must be an object") {
			t.Errorf("the error does not name the path: %s", stderr)
		}
	}
	if code, _, _ := runCatalog("catalog", "diff", "--catalog", dir, "--url", srv.URL+"/broken"); code != 1 {
		t.Errorf("a failing server = %d, want 1", code)
	}
}

func newCatalogTestEngine(t *testing.T) *audit.Engine {
	t.Helper()
	return enginetest.Engine(t, "authorworks", audit.Options{})
}

// compliantBook is an AuthorWorks content.book.published event.
func compliantBook(id string) string {
	return `{"meta":{"id":"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f","type":"content.book.published","version":"1.0",` +
		`"timestamp":"2026-03-01T11:59:00.000Z","correlation_id":"req-1","source":"content-service",` +
		`"trace_context":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}},` +
		`"data":{"book_id":"` + id + `","title":"T","author_id":"au-1"}}`
}

func checkRecord(eng *audit.Engine, topic, v string) (*event.Record, *event.Result) {
	rec := &event.Record{Topic: topic, Key: []byte("k"), Value: []byte(v)}
	res := eng.Check(rec)
	return rec, &res
}

// TestCheckWithAsyncAPICatalog: `check --catalog` takes an AsyncAPI
// document as it takes a directory.
func TestCheckWithAsyncAPICatalog(t *testing.T) {
	for _, doc := range []string{"authorworks-3.0.yaml", "authorworks-2.6.yaml"} {
		cat := filepath.Join("..", "..", "examples", "asyncapi", doc)
		code, out, stderr := runCmd(t, compliantBook("bk-1")+"\n", "check", "--profile", "authorworks", "--catalog", cat)
		if code != 0 {
			t.Fatalf("%s: compliant event = %d %s %s", doc, code, out, stderr)
		}
		retracted := strings.Replace(compliantBook("bk-1"), "content.book.published", "content.book.retracted", 1)
		code, out, _ = runCmd(t, retracted+"\n", "check", "--profile", "authorworks", "--catalog", cat, "--format", "json")
		if code != 1 || !strings.Contains(out, "catalog.unregistered_type") {
			t.Fatalf("%s: unregistered type = %d %s", doc, code, out)
		}
	}
	code, _, stderr := runCmd(t, compliantBook("bk-1")+"\n", "check", "--profile", "authorworks", "--catalog", "/nonexistent.yaml")
	if code != 2 || !strings.Contains(stderr, "nonexistent") {
		t.Fatalf("missing catalog = %d %s", code, stderr)
	}
}

// TestCatalogRemoteUsageErrors: every subcommand that asks an instance
// checks its arguments the same way, in the same order, before it asks:
// exit 2 and the problem on stderr.
func TestCatalogRemoteUsageErrors(t *testing.T) {
	const url = "http://127.0.0.1:1"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"discover", "--url", url, "extra"}, `catalog discover: unexpected argument "extra"`},
		{[]string{"discover", "--url", url, "--format", "xml"}, `catalog discover: --format must be yaml or json, not "xml"`},
		{[]string{"discover", "--url", "ftp://x"}, `catalog discover: --url must be an http(s) URL, not "ftp://x"`},
		{[]string{"diff", "--url", url}, "catalog diff: --catalog is required"},
		{[]string{"diff", "--url", url, "--catalog", "x", "--format", "yaml"}, `catalog diff: --format must be text or json, not "yaml"`},
		{[]string{"versions", "--url", url, "--format", "csv"}, `catalog versions: --format must be text or json, not "csv"`},
		{[]string{"versions", "x"}, `catalog versions: unexpected argument "x"`},
		{[]string{"versions", "--url", ""}, `catalog versions: --url must be an http(s) URL, not ""`},
		{[]string{"impact", "--url", url, "--type", "a"}, "catalog impact: --type, --version and --schema are required"},
		{[]string{"impact", "--url", url, "--type", "a", "--version", "1", "--schema", "s", "--days", "0"}, "catalog impact: --days must be at least 1, got 0"},
		{[]string{"impact", "--url", url, "--type", "a", "--version", "1", "--schema", "s", "--format", "x"}, `catalog impact: --format must be text or json, not "x"`},
	} {
		code, _, stderr := runCatalog(append([]string{"catalog"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
