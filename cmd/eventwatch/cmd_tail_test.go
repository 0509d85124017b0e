package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTailPrintsStreamedViolations serves two SSE connections (the first
// drops the client) and checks tail reconnects, applies the filters to the
// URL and prints one line per violation until --max.
func TestTailPrintsStreamedViolations(t *testing.T) {
	conns := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/violations/stream" || r.URL.Query().Get("team") != "content" || r.URL.Query().Get("rule") != "key.missing" {
			http.Error(w, "bad request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		conns++
		w.Header().Set("Content-Type", "text/event-stream")
		ev := `{"observed":"2026-12-01T10:00:0%dZ","service":"user-service","team":"content","topic":"user.account","partition":2,"offset":%d,` +
			`"event_type":"user.account.created","event_id":"id-%d","rule":"key.missing","severity":"error","profile":"authorworks","message":"record has no key"}`
		fmt.Fprintf(w, ": hello\n\nevent: violation\ndata: "+ev+"\n\n", conns, 40+conns, conns)
		if conns == 1 {
			fmt.Fprint(w, "event: dropped\ndata: {}\n\n")
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"tail", "--url", srv.URL, "--team", "content", "--rule", "key.missing", "--max", "2"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "2026-12-01T10:00:01Z error   key.missing user-service (team content) user.account/2@41 type=user.account.created id=id-1: record has no key (authorworks)\n" +
		"2026-12-01T10:00:02Z error   key.missing user-service (team content) user.account/2@42 type=user.account.created id=id-2: record has no key (authorworks)\n"
	if out.String() != want {
		t.Errorf("output\n%s\nwant\n%s", out.String(), want)
	}
	if !strings.Contains(errb.String(), "dropped this client") {
		t.Errorf("no reconnect note: %s", errb.String())
	}
	if code := run(ctx, []string{"tail", "--url", srv.URL}, &out, &errb); code != 2 {
		t.Errorf("a 400 exits %d, want 2", code)
	}
}

// TestTailGivesUp: a URL nobody listens on, and a server that answers only
// 503, end the tail with exit 1 once --retry-for has passed, naming why.
func TestTailGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "report store unavailable", http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	for _, tt := range []struct{ url, reason string }{
		{closed, "connection refused"},
		{busy.URL, "503 Service Unavailable"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var out, errb bytes.Buffer
		code := run(ctx, []string{"tail", "--url", tt.url, "--retry-for", "2s"}, &out, &errb)
		cancel()
		if code != 1 || !strings.Contains(errb.String(), "giving up after") || !strings.Contains(errb.String(), tt.reason) ||
			!strings.Contains(errb.String(), "reconnecting in") {
			t.Errorf("tail %s: exit %d, stderr:\n%s", tt.url, code, errb.String())
		}
	}
}

// TestTailRetryForDefault: the default budget is two minutes, and a
// negative one is a usage error.
func TestTailRetryForDefault(t *testing.T) {
	f, err := parseTailFlags(nil, io.Discard)
	if err != nil || f.retryFor != 2*time.Minute {
		t.Errorf("default --retry-for = %s (%v), want 2m", f.retryFor, err)
	}
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"tail", "--retry-for", "-1s"}, io.Discard, &errb); code != 2 {
		t.Errorf("--retry-for -1s: exit %d, want 2 (%s)", code, errb.String())
	}
	tl := &tailer{f: tailFlags{retryFor: 5 * time.Second}}
	if w, give := tl.nextTry(4*time.Second, 8*time.Second); give || w != time.Second {
		t.Errorf("nextTry(4s into 5s, backoff 8s) = %s, %t; want 1s, false", w, give)
	}
	if _, give := tl.nextTry(5*time.Second, time.Second); !give {
		t.Error("nextTry at the budget does not give up")
	}
	tl.f.retryFor = 0
	if w, give := tl.nextTry(time.Hour, 30*time.Second); give || w != 30*time.Second {
		t.Errorf("--retry-for 0 gives up or shortens the wait: %s %t", w, give)
	}
}

// TestTailUnknownRule: --rule is checked against the rule catalogue before
// connecting; a typo exits 2 with the nearest rule ids.
func TestTailUnknownRule(t *testing.T) {
	var errb bytes.Buffer
	code := run(context.Background(), []string{"tail", "--url", "http://127.0.0.1:1", "--rule", "naming.eventtype"}, io.Discard, &errb)
	if code != 2 || !strings.Contains(errb.String(), `unknown rule "naming.eventtype"; did you mean naming.event_type`) {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	code = run(context.Background(), []string{"tail", "--url", "http://127.0.0.1:1", "--rule", "no.such.rule"}, io.Discard, &errb)
	if code != 2 || !strings.Contains(errb.String(), `unknown rule "no.such.rule"; known rules include`) {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

// TestTailUnknownNames: against the real violations API, a team, service
// or topic nobody knows exits 2 at once with the server's nearest names,
// instead of following a stream that will never carry anything.
func TestTailUnknownNames(t *testing.T) {
	srv, tok := reportServer(t) // one service, orders, producing to orders.events
	for _, tt := range []struct{ flag, value, want string }{
		{"--team", "nosuchteam", `404 Not Found: unknown team "nosuchteam"; known teams: orders`},
		{"--service", "order", `unknown service "order"; did you mean orders?`},
		{"--topic", "orders.event", `unknown topic "orders.event"; did you mean orders.events?`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var errb bytes.Buffer
		code := run(ctx, []string{"tail", "--url", srv.URL, "--token-file", tok, tt.flag, tt.value}, io.Discard, &errb)
		cancel()
		if code != 2 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("tail %s %s: exit %d, stderr %q; want 2 and %q", tt.flag, tt.value, code, errb.String(), tt.want)
		}
	}
}
