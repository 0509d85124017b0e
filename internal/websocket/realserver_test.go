package websocket

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/recordmetrics"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

// realCase is one endpoint of the Node server and exactly the rules its
// probe must count.
type realCase struct {
	path, service string
	tokenIn       string
	module        string // a module of newProberWithQueryModule; "fast" when empty
	wantRules     []string
	wantSuccess   bool
	check         func(t *testing.T, r *Result)
}

func realCases() []realCase {
	return []realCase{
		{path: "/v1/content/ws", service: "content", wantSuccess: true, check: func(t *testing.T, r *Result) {
			if a := r.Auth.NoToken; a.Outcome != OutcomeRefused || a.HTTPStatus != 401 || !a.Proper {
				t.Errorf("no token: %+v, want refused with 401", a)
			}
			if r.Heartbeat.Verdict != HeartbeatOK || r.Heartbeat.Pings < 2 {
				t.Errorf("heartbeat %+v, want ok over ping frames", r.Heartbeat)
			}
			if r.Heartbeat.PingAnswered == nil || !*r.Heartbeat.PingAnswered {
				t.Errorf("ping answered = %v, want true", r.Heartbeat.PingAnswered)
			}
			if r.Messages.Audited == 0 || r.Messages.Compliant != r.Messages.Audited || !r.Compliant {
				t.Errorf("messages %+v compliant=%t, want every audited message compliant", r.Messages, r.Compliant)
			}
		}},
		{path: "/v1/chat/ws", service: "chat", tokenIn: TokenInQuery, wantSuccess: true, check: func(t *testing.T, r *Result) {
			if a := r.Auth.NoToken; a.Outcome != OutcomeRefused || a.CloseCode != 1008 || !a.Proper {
				t.Errorf("no token: %+v, want refused by close 1008", a)
			}
			if r.Heartbeat.Verdict != HeartbeatOK || r.Heartbeat.Messages < 2 || r.Messages.Heartbeats != r.Heartbeat.Messages {
				t.Errorf("heartbeat %+v, want ok over heartbeat messages", r.Heartbeat)
			}
		}},
		{path: "/v1/legacy/ws", service: "legacy", wantSuccess: true,
			wantRules: []string{"naming.event_type", "websocket.auth_invalid_accepted", "websocket.auth_missing", "websocket.heartbeat_late"},
			check: func(t *testing.T, r *Result) {
				if r.ViolationsByRule["naming.event_type"] != r.Messages.Audited {
					t.Errorf("naming.event_type on %d of %d messages", r.ViolationsByRule["naming.event_type"], r.Messages.Audited)
				}
			}},
		{path: "/v1/lax/ws", service: "lax", wantSuccess: true, wantRules: []string{"websocket.auth_invalid_accepted"},
			check: func(t *testing.T, r *Result) {
				got := map[string]string{}
				for _, a := range r.Auth.Invalid {
					got[a.Variant] = a.Outcome
				}
				want := map[string]string{VariantMalformed: OutcomeRefused, VariantTampered: OutcomeAccepted,
					VariantAlgNone: OutcomeAccepted, VariantExpired: OutcomeAccepted}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("invalid-token outcomes %v, want %v", got, want)
				}
			}},
		{path: "/realtime/content", service: "content", wantSuccess: true, wantRules: []string{"websocket.endpoint_path"}},
		{path: "/v1/quiet/ws", service: "quiet", wantSuccess: true, wantRules: []string{"websocket.heartbeat_missing"},
			check: func(t *testing.T, r *Result) {
				if r.Heartbeat.PingAnswered == nil || *r.Heartbeat.PingAnswered {
					t.Errorf("ping answered = %v, want false (autoPong off)", r.Heartbeat.PingAnswered)
				}
			}},
		{path: "/v1/big/ws", service: "big", wantRules: []string{"size.event_too_large"}, check: func(t *testing.T, r *Result) {
			if r.Close == nil || r.Close.Code != 1009 || !strings.Contains(r.Error, "max_message_bytes") {
				t.Errorf("close %+v error %q, want 1009 and the limit", r.Close, r.Error)
			}
		}},
		{path: "/v1/binary/ws", service: "binary", wantSuccess: true, wantRules: []string{"envelope.invalid_json"},
			check: func(t *testing.T, r *Result) {
				if r.Messages.Binary == 0 || r.Messages.Binary != r.Messages.Received {
					t.Errorf("messages %+v, want binary frames", r.Messages)
				}
			}},
		{path: "/v1/stall/ws", service: "stall", module: "stall", wantSuccess: true, check: func(t *testing.T, r *Result) {
			// unanswered attempts are no verdict: neither refused nor accepted
			if r.Auth.NoToken == nil {
				t.Fatalf("no attempt without a token (error %q)", r.Error)
			}
			if a := r.Auth.NoToken; a.Outcome != OutcomeError || !strings.Contains(a.Reason, "connect_timeout") {
				t.Errorf("no token: %+v, want an error (never answered)", a)
			}
			if r.Heartbeat.Verdict != HeartbeatOK {
				t.Errorf("heartbeat %+v", r.Heartbeat)
			}
		}},
		{path: "/v1/plain/ws", service: "plain", check: func(t *testing.T, r *Result) {
			if !strings.Contains(r.Error, "101") || r.Auth.NoToken != nil {
				t.Errorf("error %q, auth %+v: want a failed upgrade and no auth verdict", r.Error, r.Auth)
			}
		}},
		{path: "/v1/silent/ws", service: "silent", tokenIn: TokenInQuery, check: func(t *testing.T, r *Result) {
			if !strings.Contains(r.Error, "connect_timeout") {
				t.Errorf("error %q, want the connect timeout", r.Error)
			}
		}},
	}
}

// TestProbeRealServer probes a Node `ws` server with real JWT validation
// (jsonwebtoken): each rule fires on exactly the endpoints built to break
// it, and the token appears in no log line, metric or result.
func TestProbeRealServer(t *testing.T) {
	t.Parallel()
	secret := "s3cret-for-the-test-only"
	base, token := realServer(t, secret)
	now := time.Now()
	expired := proberJWT(t, secret, now.Add(-2*time.Hour), now.Add(-time.Hour))
	dir := t.TempDir()
	tokFile, expFile := filepath.Join(dir, "jwt"), filepath.Join(dir, "expired")
	writeFile(t, tokFile, token+"\n")
	writeFile(t, expFile, expired)
	policy := fastPolicy(t)
	cases := realCases()
	var targets []Target
	for _, c := range cases {
		tg := Target{Name: c.service + c.path, URL: base + c.path, Service: c.service, Policy: policy, TokenFile: tokFile, ExpiredTokenFile: expFile}
		if c.tokenIn != "" {
			tg.Module = "query"
		}
		if c.module != "" {
			tg.Module = c.module
		}
		targets = append(targets, tg)
	}
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	p := newProberWithQueryModule(t, reg, logs, targets)
	results := make([]*Result, len(cases))
	done := make(chan int)
	for i, tg := range p.targets {
		go func() { results[i] = tg.probe(context.Background()); tg.m.probed(results[i]); done <- i }()
	}
	for range cases {
		<-done
	}
	for i, c := range cases {
		r := results[i]
		t.Run(c.service+c.path, func(t *testing.T) {
			if r.Success != c.wantSuccess {
				t.Errorf("success = %t (error %q), want %t", r.Success, r.Error, c.wantSuccess)
			}
			want := slices.Clone(c.wantRules)
			slices.Sort(want)
			if got := rulesOf(r); !slices.Equal(got, want) {
				t.Errorf("rules %v, want exactly %v; violations: %+v", got, want, r.Violations)
			}
			for _, v := range r.Violations {
				if v.Transport != Transport {
					t.Errorf("violation %+v without transport websocket", v)
				}
			}
			if c.check != nil {
				c.check(t, r)
			}
			assertEstateViolations(t, reg, c, r)
		})
	}
	if os.Getenv("WS_DUMP") != "" {
		t.Log(mustJSON(t, results))
	}
	assertNoSecret(t, []string{token, expired}, logs.String(), exposition(t, reg), mustJSON(t, results))
}

// assertEstateViolations: every violation of the probe is also in the
// estate-wide eventwatch_violations_total under its rule id, with transport
// websocket, the endpoint path as topic and the target's service — and no
// other rule is there for that endpoint.
func assertEstateViolations(t *testing.T, reg *prometheus.Registry, c realCase, r *Result) {
	t.Helper()
	at := map[string]string{"transport": recordmetrics.TransportWebSocket, "topic": c.path, "source_service": c.service}
	var total int
	for rule, n := range r.ViolationsByRule {
		total += n
		want := maps.Clone(at)
		want["rule"] = rule
		if got := metricstest.Value(t, reg, "eventwatch_violations_total", want); got != float64(n) {
			t.Errorf("eventwatch_violations_total%v = %v, want %d", want, got, n)
		}
	}
	if got := metricstest.Value(t, reg, "eventwatch_violations_total", at); got != float64(total) {
		t.Errorf("eventwatch_violations_total%v = %v, want %d (the probe's violations only)", at, got, total)
	}
}

// newProberWithQueryModule adds a module "query" (token in ?token=) to the
// test prober.
func newProberWithQueryModule(t *testing.T, reg *prometheus.Registry, logs *syncBuffer, targets []Target) *Prober {
	t.Helper()
	q := fastModule()
	q.TokenIn = TokenInQuery
	stall := fastModule()
	stall.ConnectTimeout = 1500 * time.Millisecond // every refused-connection attempt times out
	cfg := Config{Modules: map[string]Module{"fast": fastModule(), "query": q, "stall": stall}, Targets: targets}
	cfg.SetDefaults()
	for i := range cfg.Targets {
		if cfg.Targets[i].Module == "" {
			cfg.Targets[i].Module = "fast"
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg, Options{Registry: reg, Logger: testLogger(logs), Violations: recordmetrics.NewCounters(reg, 100)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProbeTLSError: a wss:// endpoint whose certificate nobody trusts is
// a failed probe that says why, with the token (in the query, where an
// HTTP client error would print it) redacted.
func TestProbeTLSError(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error is the point
	srv.StartTLS()
	defer srv.Close()
	token := signHS256(t, "k", map[string]any{"sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
	t.Setenv("EVENTWATCH_TEST_TLS_JWT", token)
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	u := strings.Replace(srv.URL, "https://", "wss://", 1) + "/v1/tls/ws"
	p := newProberWithQueryModule(t, reg, logs, []Target{{URL: u, Service: "tls", Module: "query", Token: "${EVENTWATCH_TEST_TLS_JWT}"}})
	r := p.targets[0].probe(context.Background())
	p.targets[0].m.probed(r)
	if r.Success || !strings.Contains(r.Error, "certificate") {
		t.Fatalf("success %t error %q, want a certificate error", r.Success, r.Error)
	}
	if len(r.ViolationsByRule) != 0 {
		t.Errorf("violations %v on an endpoint that could not be probed", r.ViolationsByRule)
	}
	assertNoSecret(t, []string{token}, logs.String(), r.Error, exposition(t, reg), mustJSON(t, r))
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertNoSecret fails when any token, or its claims or signature part,
// appears in any of texts.
func assertNoSecret(t *testing.T, tokens []string, texts ...string) {
	t.Helper()
	for _, tok := range tokens {
		parts := strings.Split(tok, ".")
		for _, needle := range []string{tok, parts[1], parts[2]} {
			for i, s := range texts {
				if strings.Contains(s, needle) {
					t.Errorf("text %d contains a token part %q", i, needle)
				}
			}
		}
	}
}
