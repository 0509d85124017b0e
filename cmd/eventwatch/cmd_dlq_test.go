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

	"github.com/eventwatch/eventwatch/internal/dlq"
)

func TestParseOffsets(t *testing.T) {
	got, err := parseOffsets("0:5-9, 2:7")
	if err != nil || len(got) != 2 || got[0].From != 5 || got[0].To != 9 || got[1].Partition != 2 || got[1].To != 7 {
		t.Fatalf("parseOffsets = %+v, %v", got, err)
	}
	for _, bad := range []string{"x:1-2", "0:9-5", "0", "-1:1-2"} {
		if _, err := parseOffsets(bad); err == nil {
			t.Errorf("parseOffsets(%q) accepted", bad)
		}
	}
}

// TestDLQUsage: bad flags are usage errors (exit 2) with a reason, before
// any request.
func TestDLQUsage(t *testing.T) {
	for _, args := range [][]string{
		{"dlq"}, {"dlq", "nope"}, {"dlq", "replay", "--url", "http://127.0.0.1:1"},
		{"dlq", "replay", "--topic", "t", "--offsets", "0:9-1"}, {"dlq", "show", "--record", "t@x"},
		{"dlq", "list", "--format", "yaml"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a reason", args, code, strings.TrimSpace(errb.String()))
		}
	}
}

// TestDLQListAgainstTheAPI: `eventwatch dlq list` prints the causes the
// real dlq.API answers, with counts, classes and samples; --format json
// passes the answer through.
func TestDLQListAgainstTheAPI(t *testing.T) {
	tr := dlq.NewTriage(dlq.TriageConfig{MaxClasses: 10, Retention: 48 * time.Hour, Refresh: time.Second}, nil, nil, nil, nil, nil)
	at := time.Now().UTC()
	for i := range 3 {
		l := dlq.Letter{Topic: "content.deadletter", Offset: int64(i), Time: at, Service: "content-service", EventID: fmt.Sprintf("e-%d", i),
			OriginalTopic: "content.book", ErrorClass: "TimeoutError: timeout after <n> ms"}
		tr.Add(&l)
	}
	mux := http.NewServeMux()
	(&dlq.API{Triage: tr}).Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"dlq", "list", "--url", srv.URL}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"content.deadletter: 3 dead letters", "TimeoutError: timeout after <n> ms", "content.book", "content.deadletter/0@2 e-2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"dlq", "list", "--url", srv.URL, "--topic", "nope"}, &out, &errb); code != 1 {
		t.Errorf("unknown topic: exit %d, want 1", code)
	}
}

// TestDLQReplayRefused: a refusal (403 for a read token) is exit 1 with
// the server's reason.
func TestDLQReplayRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "replay needs the admin credential; this token may only read", http.StatusForbidden)
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"dlq", "replay", "--url", srv.URL, "--topic", "t.dlq", "--dry-run"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "403") || !strings.Contains(errb.String(), "admin credential") {
		t.Errorf("exit %d, stderr %q; want 1 naming the 403", code, errb.String())
	}
}

// TestDLQShowOriginalPlace: an original whose partition or offset the dead
// letter does not carry (-1) is printed as far as it is known, never as
// "topic/-1@-1"; an audit without violations says so.
func TestDLQShowOriginalPlace(t *testing.T) {
	for _, c := range []struct {
		topic     string
		part      int32
		off       int64
		want, not string
	}{
		{"content.book", -1, -1, "original:  content.book  group", "@-1"},
		{"content.book", 2, -1, "original:  content.book/2  group", "@-1"},
		{"content.book", 2, 7, "original:  content.book/2@7  group", "/-1"},
		{"", -1, -1, "original:  -  group", "@-1"},
	} {
		var out bytes.Buffer
		printShown(&out, &dlq.Shown{Letter: dlq.Letter{Topic: "content.deadletter", OriginalTopic: c.topic,
			OriginalPartition: c.part, OriginalOffset: c.off}, Profile: "authorworks"})
		if !strings.Contains(out.String(), c.want) || strings.Contains(out.String(), c.not) {
			t.Errorf("%s/%d@%d: want %q and no %q in\n%s", c.topic, c.part, c.off, c.want, c.not, out.String())
		}
		if !strings.Contains(out.String(), "compliant (no rule broken)") {
			t.Errorf("an audit without violations prints nothing under it:\n%s", out.String())
		}
	}
}
