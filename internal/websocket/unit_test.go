package websocket

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

func TestJudgeHeartbeat(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, t0.Add(time.Duration(s*float64(time.Second))))
		}
		return out
	}
	const iv, tol = 30 * time.Second, 3 * time.Second
	cases := []struct {
		name    string
		beats   []time.Time
		window  float64
		iv      time.Duration
		verdict string
	}{
		{"every 30s", at(30, 60), 70, iv, HeartbeatOK},
		{"every 32s within tolerance", at(32, 64), 70, iv, HeartbeatOK},
		{"every 45s", at(45), 70, iv, HeartbeatLate},
		{"first late after open", at(40, 70), 75, iv, HeartbeatLate},
		{"stops after one", at(10), 70, iv, HeartbeatLate},
		{"none in a long window", nil, 70, iv, HeartbeatMissing},
		{"none in a short window", nil, 20, iv, HeartbeatNotJudged},
		{"profile without interval", nil, 70, 0, HeartbeatUnchecked},
	}
	for _, c := range cases {
		var h Heartbeat
		judgeHeartbeat(&h, c.beats, t0, t0.Add(time.Duration(c.window*float64(time.Second))), c.iv, tol)
		if h.Verdict != c.verdict {
			t.Errorf("%s: verdict %s (%s), want %s", c.name, h.Verdict, h.Detail, c.verdict)
		}
	}
}

func TestInvalidTokens(t *testing.T) {
	now := time.Now()
	tok := signHS256(t, "k", map[string]any{"sub": "a", "exp": now.Add(time.Hour).Unix()})
	vs := invalidTokens(tok, "", now)
	names := []string{}
	for _, v := range vs {
		names = append(names, v.Name)
		if v.Token == tok {
			t.Errorf("%s: the real token", v.Name)
		}
	}
	if strings.Join(names, ",") != "malformed,tampered,alg_none,expired" {
		t.Fatalf("variants %v", names)
	}
	claims, _ := base64.RawURLEncoding.DecodeString(strings.Split(vs[3].Token, ".")[1])
	var c struct{ Exp int64 }
	if err := json.Unmarshal(claims, &c); err != nil || c.Exp >= now.Unix() {
		t.Errorf("expired variant exp %d (%v), want in the past", c.Exp, err)
	}
	head, _ := base64.RawURLEncoding.DecodeString(strings.Split(vs[2].Token, ".")[0])
	if !strings.Contains(string(head), `"none"`) || !strings.HasSuffix(vs[2].Token, ".") {
		t.Errorf("alg_none variant %q", vs[2].Token)
	}
	// an opaque token: only what can be made without parsing it
	if vs := invalidTokens("opaque-token", "given-expired", now); len(vs) != 2 || vs[1].Token != "given-expired" {
		t.Errorf("opaque token variants %+v", vs)
	}
}

func TestRedactor(t *testing.T) {
	tok := signHS256(t, "k", map[string]any{"sub": "someone@example.com", "exp": 1})
	r := newRedactor(tok)
	for _, s := range []string{"Get \"wss://h/v1/x/ws?token=" + tok + "\": x509", "reason: " + strings.Split(tok, ".")[1]} {
		if out := r.clean(s); strings.Contains(out, strings.Split(tok, ".")[1]) || !strings.Contains(out, Redacted) {
			t.Errorf("clean(%q) = %q", s, out)
		}
	}
}

func FuzzInvalidTokens(f *testing.F) {
	for _, s := range []string{"a.b.c", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "", "..", "x.e30.", "eyJ9.eyJ9.eyJ9"} {
		f.Add(s)
	}
	// invariant: never panics; no variant is the token itself; a redactor
	// built from them removes the token from any text
	f.Fuzz(func(t *testing.T, tok string) {
		vs := invalidTokens(tok, "", time.Unix(1e9, 0))
		secrets := []string{tok}
		for _, v := range vs {
			if v.Token == tok && tok != malformedToken {
				t.Fatalf("variant %s is the token", v.Name)
			}
			secrets = append(secrets, v.Token)
		}
		if out := newRedactor(secrets...).clean("x" + tok + "y"); len(tok) >= 4 && tok != malformedToken && strings.Contains(out, tok) {
			t.Fatalf("token left in %q", out)
		}
	})
}

func TestIsHeartbeat(t *testing.T) {
	shapes := []HeartbeatMatch{{Path: "type", Equals: "heartbeat"}, {Path: "meta.type", Equals: "system.heartbeat.sent"}}
	for msg, want := range map[string]bool{
		`{"type":"heartbeat"}`: true, `{"meta":{"type":"system.heartbeat.sent"}}`: true,
		`{"type":"ping"}`: false, `{"meta":{"type":"content.book.published"}}`: false, `not json`: false, `{"type":1}`: false,
	} {
		if got := isHeartbeat([]byte(msg), shapes); got != want {
			t.Errorf("isHeartbeat(%s) = %t", msg, got)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	base := func() Config {
		c := Config{Targets: []Target{{URL: "ws://h/v1/a/ws", Service: "a", TokenFile: "/x"}}}
		c.SetDefaults()
		return c
	}
	if err := func() error { c := base(); return c.Validate() }(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := map[string]func(*Config){
		"websocket.targets[0].url: scheme must be ws or wss":                func(c *Config) { c.Targets[0].URL = "http://h/x" },
		"websocket.targets[0].service: required":                            func(c *Config) { c.Targets[0].Service = "" },
		"websocket.targets[0].token: must be ${ENV_VAR}":                    func(c *Config) { c.Targets[0].TokenFile, c.Targets[0].Token = "", "eyJhbGci.x.y" },
		"websocket.targets[0].token: required":                              func(c *Config) { c.Targets[0].TokenFile = "" },
		"websocket.targets[0].module: unknown module \"nope\"":              func(c *Config) { c.Targets[0].Module = "nope" },
		"websocket.targets[0]: the module's listen (1m10s) must be shorter": func(c *Config) { c.Interval = time.Minute },
		"websocket.targets[0].profile: unknown profile":                     func(c *Config) { c.Targets[0].Profile = "nope" },
		"websocket.modules.m.token_in: must be header or query":             func(c *Config) { c.Modules = map[string]Module{"m": {TokenIn: "cookie"}} },
		"websocket.targets[1].name: \"ws://h/v1/a/ws\" is used":             func(c *Config) { c.Targets = append(c.Targets, c.Targets[0]) },
		"websocket.targets[0].url: must not carry credentials":              func(c *Config) { c.Targets[0].URL = "ws://u:p@h/v1/a/ws" },
	}
	for want, mutate := range cases {
		c := base()
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}

func TestCodeLabel(t *testing.T) {
	for code, want := range map[int]string{1000: "1000", 1008: "1008", 4001: "4xxx", 3000: "3xxx", 999: "other", 2000: "other"} {
		if got := codeLabel(code); got != want {
			t.Errorf("codeLabel(%d) = %s, want %s", code, got, want)
		}
	}
}

// TestRunPublishesStatusAndMetrics runs the prober's loop against an
// in-process endpoint and reads the result where users do: the API and
// /metrics.
func TestRunPublishesStatusAndMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good.token.here" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		_, _, _ = c.Read(r.Context()) // until the prober closes
	}))
	defer srv.Close()
	t.Setenv("EVENTWATCH_TEST_RUN_JWT", "good.token.here")
	reg := prometheus.NewRegistry()
	mod := Module{Listen: 200 * time.Millisecond, ConnectTimeout: 2 * time.Second, AuthWait: 200 * time.Millisecond}
	cfg := Config{Interval: time.Second, Modules: map[string]Module{"quick": mod},
		Targets: []Target{{Name: "svc", URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/svc/ws", Service: "svc", Module: "quick", Token: "${EVENTWATCH_TEST_RUN_JWT}"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg, Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	wait.For(t, "a completed probe in the API", func() bool {
		s := p.Snapshot()
		return len(s) == 1 && s[0].Last != nil
	})
	mux := http.NewServeMux()
	p.Routes(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/websockets?service=svc", nil))
	var body struct{ Targets []Status }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Targets) != 1 {
		t.Fatalf("API answered %s (%v)", rec.Body.String(), err)
	}
	last := body.Targets[0].Last
	// a silent endpoint that refuses properly: success, heartbeat not judged in 200 ms
	if !last.Success || last.Auth.NoToken.HTTPStatus != 401 || last.Heartbeat.Verdict != HeartbeatNotJudged {
		t.Fatalf("last probe %+v", last)
	}
	if v := metricstest.Value(t, reg, "eventwatch_websocket_probe_success", map[string]string{"target": "svc", "service": "svc"}); v != 1 {
		t.Errorf("probe_success = %g", v)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/websockets?service=other", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `unknown service \"other\"; known services: svc`) {
		t.Errorf("a service no target names: %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/websockets?service=sv", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"nearest":["svc"]`) {
		t.Errorf("a typo of a target's service: %d %s", rec.Code, rec.Body.String())
	}
}

// TestDocListsMetrics: the package doc lists exactly the metrics the
// catalogue declares for the websocket area, with their labels.
func TestDocListsMetrics(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range metrics.All() {
		if s.Area != "websocket" {
			continue
		}
		line := s.Name + "{" + strings.Join(s.Labels, ",") + "}"
		if !strings.Contains(string(src), line) {
			t.Errorf("doc.go does not list %s", line)
		}
	}
}

// TestNewNamesTheTokenKey: a token that cannot be read fails start-up
// with the key's path, never a value.
func TestNewNamesTheTokenKey(t *testing.T) {
	cfg := Config{Targets: []Target{{URL: "ws://h/v1/a/ws", Service: "a", TokenFile: filepath.Join(t.TempDir(), "missing")}}}
	cfg.SetDefaults()
	_, err := New(cfg, Options{Registry: prometheus.NewRegistry()})
	if err == nil || !strings.HasPrefix(err.Error(), "websocket.targets[0].token_file: read secret") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzIsHeartbeat: whatever a server sends, matching never panics, and a
// match is always a JSON object whose value at the path is the string.
func FuzzIsHeartbeat(f *testing.F) {
	for _, s := range []string{`{"type":"heartbeat"}`, `{"meta":{"type":"heartbeat"}}`, `{"type":["heartbeat"]}`, `{`, `{"type":null}`, "\xff{"} {
		f.Add([]byte(s))
	}
	shapes := []HeartbeatMatch{{Path: "type", Equals: "heartbeat"}, {Path: "meta.type", Equals: "heartbeat"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !isHeartbeat(data, shapes) {
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatalf("matched a non-object %q", data)
		}
		if lookup(obj, "type") != "heartbeat" && lookup(obj, "meta.type") != "heartbeat" {
			t.Fatalf("matched %q without the value", data)
		}
	})
}
