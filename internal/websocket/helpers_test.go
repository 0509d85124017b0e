package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// signHS256 mints a compact JWT the way any HS256 issuer does.
func signHS256(t testing.TB, secret string, claims map[string]any) string {
	t.Helper()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := seg(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + seg(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(head))
	return head + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// proberJWT signs the prober's token with secret, issued at iat and
// expiring at exp.
func proberJWT(t testing.TB, secret string, iat, exp time.Time) string {
	t.Helper()
	return signHS256(t, secret, map[string]any{"sub": "eventwatch-prober", "iat": iat.Unix(), "exp": exp.Unix()})
}

// realServer starts the Node server with secret (a heartbeat a second)
// and signs a prober token for it, valid for the next hour: the server's
// base URL and the token.
func realServer(t *testing.T, secret string) (base, token string) {
	t.Helper()
	base = nodeServer(t, secret, 1000)
	now := time.Now()
	return base, proberJWT(t, secret, now, now.Add(time.Hour))
}

// tokenFile writes token to a file in a new temporary directory and
// returns its path.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwt")
	writeFile(t, path, token)
	return path
}

// nodeServer starts testdata/server/server.js (Node `ws` + `jsonwebtoken`)
// on a loopback port and returns its ws:// base URL.
func nodeServer(t *testing.T, secret string, hbMs int) string {
	t.Helper()
	bins.Require(t, "apt-get install -y nodejs npm", "node")
	dir, err := filepath.Abs("testdata/server")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		bins.Missing(t, "node modules of "+dir+" are not installed: run `npm ci` there (.ci/run does)")
		return ""
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SECRET="+secret, "HB_MS="+itoa(hbMs))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("node server did not start: %v; stderr: %s", err, stderr.String())
	}
	var addr struct{ Port int }
	if err := json.Unmarshal([]byte(line), &addr); err != nil || addr.Port == 0 {
		t.Fatalf("node server printed %q: %v", line, err)
	}
	return "ws://127.0.0.1:" + itoa(addr.Port)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// fastPolicy writes the authorworks policy with a 1 s heartbeat (± 1 s: a
// loaded CI machine delays timers) so a probe can judge heartbeats in
// seconds; the endpoint pattern stays /v1/{service}/ws.
func fastPolicy(t *testing.T) string {
	t.Helper()
	src, err := policy.BuiltinPolicy("authorworks")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	i := strings.Index(s, "\nwebsocket:")
	if i < 0 {
		t.Fatal("authorworks has no websocket section")
	}
	s = strings.Replace(s[:i+1], "name: authorworks", "name: authorworks-fast", 1) +
		"websocket:\n  endpoint: /v1/{service}/ws\n  heartbeat_interval: 1s\n  heartbeat_tolerance: 1s\n"
	p := filepath.Join(t.TempDir(), "fast.yaml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fastModule listens 4.5 s: enough for four 1 s heartbeats, and for the
// late endpoint's first (3 s) one.
func fastModule() Module {
	return Module{Listen: 4500 * time.Millisecond, ConnectTimeout: 3 * time.Second, AuthWait: time.Second,
		PingTimeout: 2 * time.Second, HeartbeatMessages: []HeartbeatMatch{{Path: "type", Equals: "heartbeat"}}}
}

// syncBuffer is a log destination tests read while probes write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLogger logs at debug level (every violation) into logs.
func testLogger(logs *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// exposition is the text exposition of every family in reg.
func exposition(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// rulesOf returns the rule ids a result counted, sorted.
func rulesOf(r *Result) []string {
	var out []string
	for id := range r.ViolationsByRule {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
