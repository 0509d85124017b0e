package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

const (
	dlqTopic    = "content.deadletter"
	dlqOriginal = "content.book"
	readTok     = "read-token"
	adminTok    = "admin-token"
)

func awOriginal(i int) string {
	return fmt.Sprintf(`{"meta":{"id":"0b6f3a52-4c1e-4b8e-9a7d-%012d","type":"content.book.published","version":"1.0","timestamp":"2026-03-01T12:00:00Z","source":"content-service"},"data":{"book_id":"b-%d"}}`, i, i)
}

// deadLetters produces the ground truth: n1 wrapped dead letters of one
// cause (ids differ in the message), n2 of another, one wrapper without an
// original; it returns the original values by DLQ offset.
func deadLetters(t *testing.T, cl *kgo.Client, n1, n2 int) map[int64]string {
	t.Helper()
	var recs []*kgo.Record
	originals := map[int64]string{}
	for i := range n1 + n2 {
		msg := fmt.Sprintf("schema validation failed: data.isbn missing for book-%da", i)
		if i >= n1 {
			msg = fmt.Sprintf("timeout after %d ms calling search", 1000+i)
		}
		v := fmt.Sprintf(`{"original_event":%s,"original_topic":%q,"error":{"message":%q,"consumer":"search-indexer"}}`, awOriginal(i), dlqOriginal, msg)
		originals[int64(i)] = awOriginal(i)
		recs = append(recs, &kgo.Record{Topic: dlqTopic, Partition: 0, Key: []byte(fmt.Sprintf("b-%d", i)), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}}})
	}
	recs = append(recs, &kgo.Record{Topic: dlqTopic, Partition: 0, Value: []byte(`{"error":{"message":"lost"},"meta":{"source":"content-service"}}`)})
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return originals
}

func post(t *testing.T, url, token string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func dlqDaemon(t *testing.T, c *kfake.Cluster) *instance {
	t.Helper()
	cfg := testConfig(t, c.ListenAddrs())
	cfg.Audit.Profile = "authorworks"
	cfg.HTTP.Token = readTok
	cfg.DLQ.Triage.Refresh = 500 * time.Millisecond
	cfg.DLQ.Replay.Enabled = true
	tokFile := filepath.Join(t.TempDir(), "admin")
	if err := os.WriteFile(tokFile, []byte(adminTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.DLQ.Replay.AdminTokenFile = tokFile
	cfg.DLQ.Replay.Rate = 1000
	return start(t, cfg, Options{Version: "test"})
}

// TestDLQTriageAndReplay: triage counts per error class are exact; the
// read token cannot replay (403); a selection with a dead letter without
// an original, an unknown topic or a malformed body is refused with
// nothing sent; a replay sends exactly the selected originals once (key,
// value and headers byte for byte, plus the replay headers); a second
// replay of the same selection sends nothing.
func TestDLQTriageAndReplay(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, dlqTopic, dlqOriginal))
	cl := kfaketest.Client(t, c)
	originals := deadLetters(t, cl, 5, 3)
	in := dlqDaemon(t, c)
	auth := []string{"Authorization", "Bearer " + readTok}

	var list struct{ Topics []dlq.TopicCauses }
	wait.Within(t, 30*time.Second, "9 dead letters triaged", func() bool {
		code, body := httpget.Get(t, in.url+"/api/v1/dlq", auth...)
		list.Topics = nil
		return code == 200 && json.Unmarshal([]byte(body), &list) == nil && len(list.Topics) == 1 && list.Topics[0].Records == 9
	})
	dlqUnknownNames(t, in.url, auth)
	counts := map[string]int64{}
	for _, c := range list.Topics[0].Causes {
		counts[c.ErrorClass] += c.Count
		if c.Service != "content-service" {
			t.Errorf("cause %q owned by %q, want content-service", c.ErrorClass, c.Service)
		}
	}
	want := map[string]int64{"schema validation failed: data.isbn missing for <id>": 5, "timeout after <n> ms calling search": 3, "lost": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("error class %q: %d, want %d (all: %v)", k, counts[k], v, counts)
		}
	}
	if got := metric(t, in.url, "eventwatch_dlq_cause_records", `error_class="timeout after <n> ms calling search"`); got != 3 {
		t.Errorf("eventwatch_dlq_cause_records timeout = %v, want 3", got)
	}

	checkReportDeadLetters(t, in.url, want)
	// The wrapper without an original breaks dlq.missing_error_context and
	// is content-service's (its own envelope), not "unknown"'s.
	wait.Within(t, 30*time.Second, "the dead letter's violation under content-service", func() bool {
		_, body := httpget.Get(t, in.url+"/api/v1/violations?rule=dlq.missing_error_context&service=content-service", auth...)
		return strings.Contains(body, `"offset": 8`) || strings.Contains(body, `"offset":8`)
	})

	sel := map[string]any{"topic": dlqTopic, "error_class": "schema validation failed: data.isbn missing for <id>", "requested_by": "alice"}
	if code, body := post(t, in.url+"/api/v1/dlq/replays", readTok, sel); code != http.StatusForbidden {
		t.Errorf("read token replay = %d %s, want 403", code, body)
	}
	if code, _ := post(t, in.url+"/api/v1/dlq/replays", "", sel); code != http.StatusUnauthorized {
		t.Errorf("no token replay = %d, want 401", code)
	}
	for name, bad := range map[string]any{
		"no original":   map[string]any{"topic": dlqTopic, "requested_by": "alice"},
		"unknown topic": map[string]any{"topic": "nope.deadletter", "requested_by": "alice"},
		"bad offsets":   map[string]any{"topic": dlqTopic, "requested_by": "alice", "offsets": []map[string]int{{"partition": 0, "from": 5, "to": 2}}},
		"unknown field": map[string]any{"topic": dlqTopic, "requested_by": "alice", "colour": "red"},
	} {
		if code, body := post(t, in.url+"/api/v1/dlq/replays", adminTok, bad); code != http.StatusBadRequest || !strings.Contains(body, "nothing sent") {
			t.Errorf("%s: %d %s, want 400 naming nothing sent", name, code, body)
		}
	}
	dry := map[string]any{"topic": dlqTopic, "error_class": sel["error_class"], "requested_by": "alice", "dry_run": true}
	code, body := post(t, in.url+"/api/v1/dlq/replays", adminTok, dry)
	if code != 200 || strings.Count(body, `"partition"`) != 5 {
		t.Fatalf("dry run = %d %s", code, body)
	}

	code, body = post(t, in.url+"/api/v1/dlq/replays", adminTok, sel)
	if code != http.StatusAccepted {
		t.Fatalf("replay = %d %s", code, body)
	}
	var started dlq.Started
	_ = json.Unmarshal([]byte(body), &started)
	waitReplay(t, in.url, started.Replay.ID, 5)
	got := readAll(t, cl, dlqOriginal, 5)
	for _, r := range got {
		of := header(r, dlq.HeaderReplayOf)
		_, _, off, err := dlq.ParseCoordinates(of)
		if err != nil || string(r.Value) != originals[off] || string(r.Key) != fmt.Sprintf("b-%d", off) ||
			header(r, "traceparent") != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" || header(r, dlq.HeaderReplayBy) != "alice" {
			t.Errorf("replayed record %s: key %s value %s headers %v", of, r.Key, r.Value, r.Headers)
		}
	}
	code, body = post(t, in.url+"/api/v1/dlq/replays", adminTok, sel)
	_ = json.Unmarshal([]byte(body), &started)
	if code != http.StatusAccepted || started.Replay.Planned != 0 || started.Replay.Skipped != 5 {
		t.Fatalf("second replay = %d %s, want nothing planned, 5 skipped", code, body)
	}
	waitReplay(t, in.url, started.Replay.ID, 0)
	if n := len(readAll(t, cl, dlqOriginal, 5)); n != 5 {
		t.Errorf("after the second replay the topic holds %d records, want 5", n)
	}
}

func header(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

func waitReplay(t *testing.T, base, id string, sent int64) {
	t.Helper()
	wait.Within(t, 30*time.Second, "replay "+id+" done", func() bool {
		code, body := httpget.Get(t, base+"/api/v1/dlq/replays/"+id, "Authorization", "Bearer "+readTok)
		var rp struct {
			State string
			Sent  int64
		}
		return code == 200 && json.Unmarshal([]byte(body), &rp) == nil && rp.State == "done" && rp.Sent == sent
	})
}

// readAll reads topic from the start until it holds at least n records and
// a further poll brings no more.
func readAll(t *testing.T, c *kgo.Client, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.OptValue(kgo.SeedBrokers).([]string)...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		rs := fs.Records()
		if len(rs) == 0 && len(out) >= n {
			return out
		}
		if len(rs) == 0 && ctx.Err() != nil && len(out) < n {
			continue
		}
		out = append(out, rs...)
	}
}

// checkReportDeadLetters: the weekly report's "Dead letters by cause" has
// the triage's counts, in JSON and Markdown, for the estate and for the
// owning service, and nothing for another service.
func checkReportDeadLetters(t *testing.T, base string, want map[string]int64) {
	t.Helper()
	auth := []string{"Authorization", "Bearer " + readTok}
	var rep struct {
		DeadLetters []struct {
			ErrorClass string `json:"error_class"`
			Count      int64  `json:"count"`
			Service    string `json:"service"`
		} `json:"dead_letters_by_cause"`
	}
	for _, q := range []string{"", "&service=content-service"} {
		var code int
		var body string
		wait.Within(t, 30*time.Second, "the report knows content-service", func() bool {
			code, body = httpget.Get(t, base+"/api/v1/reports/weekly?format=json"+q, auth...)
			return code == 200
		})
		rep.DeadLetters = nil
		if code != 200 || json.Unmarshal([]byte(body), &rep) != nil {
			t.Fatalf("weekly report%s = %d %s", q, code, body)
		}
		got := map[string]int64{}
		for _, c := range rep.DeadLetters {
			got[c.ErrorClass] += c.Count
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("report%s: dead letters of %q = %d, want %d", q, k, got[k], v)
			}
		}
	}
	if _, body := httpget.Get(t, base+"/api/v1/reports/weekly?format=md", auth...); !strings.Contains(body, "Dead letters by cause") ||
		!strings.Contains(body, "ms calling search | content.book | search-indexer") {
		t.Errorf("markdown report lacks the dead letters section:\n%s", body)
	}
	if _, body := httpget.Get(t, base+"/api/v1/reports/weekly?format=json&service=user-service", auth...); strings.Contains(body, "dead_letters_by_cause") {
		t.Errorf("user-service's report shows content-service's dead letters")
	}
}

// dlqUnknownNames: ?team= and ?service= on /api/v1/dlq are checked against
// the names eventwatch knows: a typo is 404 with the nearest name, never an
// empty triage.
func dlqUnknownNames(t *testing.T, url string, auth []string) {
	t.Helper()
	wait.Within(t, 30*time.Second, "content-service known", func() bool {
		code, _ := httpget.Get(t, url+"/api/v1/dlq?service=content-service", auth...)
		return code == http.StatusOK
	})
	for q, want := range map[string]string{
		"service=content-servce": `unknown service \"content-servce\"; did you mean content-service?`,
		"team=nosuchteam":        `unknown team \"nosuchteam\"`,
	} {
		if code, body := httpget.Get(t, url+"/api/v1/dlq?"+q, auth...); code != http.StatusNotFound || !strings.Contains(body, want) {
			t.Errorf("/api/v1/dlq?%s: %d %s, want 404 with %s", q, code, body, want)
		}
	}
	// A mistyped dead-letter topic names the one eventwatch triages.
	if code, body := httpget.Get(t, url+"/api/v1/dlq/content.deadleter", auth...); code != http.StatusNotFound ||
		!strings.Contains(body, `did you mean `+dlqTopic+`?`) || !strings.Contains(body, `"nearest"`) {
		t.Errorf("/api/v1/dlq/content.deadleter: %d %s, want 404 naming %s", code, body, dlqTopic)
	}
}
