package main

import (
	"bytes"
	"context"
	"fmt"
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
