//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

const (
	dlSpringTopic  = "content.book.dlq"   // Spring's DeadLetterPublishingRecoverer writes here (lag.dlq_patterns *.dlq)
	dlSpringSource = "content.book"       // ... the originals came from (and go back to)
	dlWrappedTopic = "content.deadletter" // AuthorWorks-wrapped dead letters
	dlWrappedOrig  = "content.review"     // their original topic
	dlReadToken    = "e2e-read-token"
	dlAdminToken   = "e2e-admin-token"
	dlSpringN      = 9
	dlConnectTopic = "orders-sink.dlq" // a Kafka Connect sink's dead-letter queue (context headers on)
)

// dlConnect writes one dead letter the way Kafka Connect does with
// errors.deadletterqueue.context.headers.enable=true: the original value
// as is, the error and origin in __connect.errors.* headers (strings).
func dlConnect(ctx context.Context, t *testing.T, cl *kgo.Client) {
	t.Helper()
	v := `{"meta":{"id":"9c1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f","type":"order.order.placed","version":"1.0","timestamp":"2026-03-01T12:00:00Z","source":"order-service"},"data":{"order_id":"o-1"}}`
	h := func(k, v string) kgo.RecordHeader {
		return kgo.RecordHeader{Key: "__connect.errors." + k, Value: []byte(v)}
	}
	rec := &kgo.Record{Topic: dlConnectTopic, Key: []byte("o-1"), Value: []byte(v), Headers: []kgo.RecordHeader{
		h("topic", "orders"), h("partition", "0"), h("offset", "12"), h("connector.name", "jdbc-sink"), h("task.id", "0"),
		h("stage", "VALUE_CONVERTER"), h("class.name", "org.apache.kafka.connect.json.JsonConverter"),
		h("exception.class.name", "org.apache.kafka.connect.errors.DataException"),
		h("exception.message", "Converting byte[] to Kafka Connect data failed due to serialization error of topic orders: ")}}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestDLQRealKafka runs `eventwatch run` against the real broker with dead
// letters written by Spring Kafka's own DeadLetterPublishingRecoverer and
// AuthorWorks-wrapped ones, and checks: triage counts exact per error
// class and owned by content-service; the read token gets 403 on replay;
// bad selections are refused with nothing sent; a replay of the Spring
// dead letters, killed with SIGKILL while sending and resumed by a new
// process, delivers each original exactly once to its original topic,
// byte for byte (key, value, original headers, plus the replay headers);
// a second replay of the same selection sends nothing.
func TestDLQRealKafka(t *testing.T) {
	mvn := bins.Require(t, "apt-get install maven", "mvn")
	javac := bins.Require(t, "apt-get install openjdk-17-jdk-headless", "javac")
	java := bins.Require(t, "apt-get install openjdk-17-jre-headless", "java")
	b := realkafka.Start(t)
	ctx := dmContext(t, 6*time.Minute)
	for _, topic := range []string{dlSpringTopic, dlSpringSource, dlWrappedTopic, dlWrappedOrig, dlConnectTopic} {
		rkCreateTopic(ctx, t, b, topic, 1)
	}
	cp := springClasspath(ctx, t, mvn, javac)
	out, err := exec.CommandContext(ctx, java, "-cp", cp, "eventwatch.e2e.DeadLetters", b.Addr(), dlSpringSource, dlSpringTopic, fmt.Sprint(dlSpringN)).CombinedOutput()
	if err != nil {
		t.Fatalf("DeadLetters: %v\n%s", err, out)
	}
	cl := b.Client(t)
	dlWrapped(ctx, t, cl)
	dlConnect(ctx, t, cl)

	dir := t.TempDir()
	bin := dmBinary(ctx, t, dir)
	extra := dlConfig(t, dir)
	p := dmStartProc(ctx, t, bin, b.Addr(), filepath.Join(dir, "a"), 10*time.Second, extra)
	p.d.waitReady(t)

	springClasses := dlTriage(t, p.d)
	dlRefusals(t, p.d)

	// Replay the Spring dead letters at 2 records/s, kill -9 the daemon
	// while it sends, resume with a new process on the same store.
	sel := map[string]any{"topic": dlSpringTopic, "requested_by": "alice"}
	code, body := dlPost(t, p.d.url, dlAdminToken, sel)
	if code != http.StatusAccepted {
		t.Fatalf("replay = %d %s", code, body)
	}
	var st dlq.Started
	_ = json.Unmarshal([]byte(body), &st)
	dmEventually(t, "some originals sent", 60*time.Second, func() bool {
		rp := dlReplay(t, p.d.url, st.Replay.ID)
		return rp.Sent >= 2
	})
	p.kill(t)
	t.Logf("killed (SIGKILL) with %d of %d originals on %s", dlReplayFrom(t, b, st.Replay.ID), dlSpringN, dlSpringSource)
	q := dmStartProc(ctx, t, bin, b.Addr(), filepath.Join(dir, "a"), 10*time.Second, extra)
	q.d.waitReady(t)
	dmEventually(t, "the resumed replay is done", 90*time.Second, func() bool {
		rp := dlReplay(t, q.d.url, st.Replay.ID)
		return rp.State == "done" && rp.Sent == dlSpringN
	})
	dlCheckReplayed(ctx, t, b, st.Replay.ID)

	code, body = dlPost(t, q.d.url, dlAdminToken, sel)
	_ = json.Unmarshal([]byte(body), &st)
	if code != http.StatusAccepted || st.Replay.Planned != 0 || st.Replay.Skipped != dlSpringN {
		t.Fatalf("second replay = %d %s; want nothing planned, %d skipped", code, body, dlSpringN)
	}
	if n := len(dlReadAll(ctx, t, b, dlSpringSource, dlSpringN)); n != dlSpringN {
		t.Errorf("%s holds %d records after the second replay, want %d", dlSpringSource, n, dlSpringN)
	}
	t.Logf("Spring error classes: %v", springClasses)
}

// dlConfig writes the token files and returns the config sections.
func dlConfig(t *testing.T, dir string) string {
	t.Helper()
	read, admin := filepath.Join(dir, "read-token"), filepath.Join(dir, "admin-token")
	for f, tok := range map[string]string{read: dlReadToken, admin: dlAdminToken} {
		if err := os.WriteFile(f, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprintf("audit:\n  profile: authorworks\nhttp:\n  token_file: %s\ndlq:\n  triage:\n    refresh: 1s\n  replay:\n    enabled: true\n    admin_token_file: %s\n    rate: 2\n    resume_after: 3s\n", read, admin)
}

// dlWrapped writes 4 + 2 wrapped dead letters of two causes and one
// wrapper without an original.
func dlWrapped(ctx context.Context, t *testing.T, cl *kgo.Client) {
	t.Helper()
	var recs []*kgo.Record
	for i := range 6 {
		msg := fmt.Sprintf("schema validation failed: data.isbn missing for book-%da", i)
		if i >= 4 {
			msg = fmt.Sprintf("timeout after %d ms calling search", 3000+i)
		}
		orig := fmt.Sprintf(`{"meta":{"id":"7a1c2d3e-4b5a-4c7d-8e9f-%012d","type":"content.review.posted","version":"1.0","timestamp":"2026-03-01T12:00:00Z","source":"review-service"},"data":{"review_id":"r-%d"}}`, i, i)
		v := fmt.Sprintf(`{"original_event":%s,"original_topic":%q,"error":{"message":%q,"consumer":"search-indexer"}}`, orig, dlWrappedOrig, msg)
		recs = append(recs, &kgo.Record{Topic: dlWrappedTopic, Key: []byte(fmt.Sprintf("r-%d", i)), Value: []byte(v)})
	}
	recs = append(recs, &kgo.Record{Topic: dlWrappedTopic, Value: []byte(`{"error":{"message":"lost"},"meta":{"source":"review-service"}}`)})
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// dlTriage waits for every dead letter to be triaged and checks the counts
// per error class against what the test wrote.
func dlTriage(t *testing.T, d *dmDaemon) map[string]int64 {
	t.Helper()
	var list struct{ Topics []dlq.TopicCauses }
	dmEventually(t, "every dead letter triaged", 90*time.Second, func() bool {
		code, body := dlGet(t, d.url+"/api/v1/dlq", dlReadToken)
		list.Topics = nil
		if code != 200 || json.Unmarshal([]byte(body), &list) != nil {
			return false
		}
		n := int64(0)
		for _, tc := range list.Topics {
			n += tc.Records
		}
		return n == dlSpringN+7+1
	})
	got := map[string]map[string]int64{}
	for _, tc := range list.Topics {
		got[tc.Topic] = map[string]int64{}
		for _, c := range tc.Causes {
			got[tc.Topic][c.ErrorClass] += c.Count
			if want := map[string]string{dlSpringTopic: "content-service", dlWrappedTopic: "review-service", dlConnectTopic: "order-service"}[tc.Topic]; c.Service != want {
				t.Errorf("%s cause %q owned by %q, want %s", tc.Topic, c.ErrorClass, c.Service, want)
			}
			if tc.Topic == dlSpringTopic && (c.OriginalTopic != dlSpringSource || c.ConsumerGroup != "catalog-projector") {
				t.Errorf("Spring cause %+v: want original topic %s and group catalog-projector", c.CauseKey, dlSpringSource)
			}
		}
	}
	if c := dlOnly(list.Topics, dlConnectTopic); c == nil || c.OriginalTopic != "orders" || c.ConsumerGroup != "connect-jdbc-sink" ||
		c.ErrorClass != "org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error of topic orders:" ||
		c.EventType != "order.order.placed" {
		t.Errorf("Connect dead letter triaged as %+v", c)
	}
	wantWrapped := map[string]int64{"schema validation failed: data.isbn missing for <id>": 4, "timeout after <n> ms calling search": 2, "lost": 1}
	for k, v := range wantWrapped {
		if got[dlWrappedTopic][k] != v {
			t.Errorf("%s class %q = %d, want %d (all %v)", dlWrappedTopic, k, got[dlWrappedTopic][k], v, got[dlWrappedTopic])
		}
	}
	spring := got[dlSpringTopic]
	counts := map[string]int64{}
	for class, n := range spring {
		for _, exc := range []string{"java.lang.IllegalStateException", "java.lang.IllegalArgumentException", "java.util.concurrent.TimeoutException"} {
			if strings.HasPrefix(class, exc+":") {
				counts[exc] += n
			}
		}
	}
	if len(spring) != 3 || counts["java.lang.IllegalStateException"] != 3 || counts["java.lang.IllegalArgumentException"] != 3 ||
		counts["java.util.concurrent.TimeoutException"] != 3 {
		t.Errorf("Spring dead letters by class = %v; want 3 classes of 3", spring)
	}
	return spring
}

// dlRefusals: the read token gets 403; bad selections get 400 and send
// nothing.
func dlRefusals(t *testing.T, d *dmDaemon) {
	t.Helper()
	sel := map[string]any{"topic": dlSpringTopic, "requested_by": "mallory"}
	if code, body := dlPost(t, d.url, dlReadToken, sel); code != http.StatusForbidden {
		t.Errorf("replay with the read token = %d %s, want 403", code, body)
	}
	for name, bad := range map[string]any{
		"unknown topic":     map[string]any{"topic": "nope.dlq", "requested_by": "alice"},
		"malformed offsets": map[string]any{"topic": dlSpringTopic, "requested_by": "alice", "offsets": []map[string]int{{"partition": 0, "from": 5, "to": 1}}},
		"no original":       map[string]any{"topic": dlWrappedTopic, "requested_by": "alice"},
	} {
		if code, body := dlPost(t, d.url, dlAdminToken, bad); code != http.StatusBadRequest || !strings.Contains(body, "nothing sent") {
			t.Errorf("%s: %d %s, want 400 and nothing sent", name, code, body)
		}
	}
	code, body := dlGet(t, d.url+"/api/v1/dlq/replays", dlReadToken)
	if code != 200 || strings.Contains(body, `"state": "running"`) {
		t.Errorf("audit log after refusals = %d %s, want no running replay", code, body)
	}
}

// dlCheckReplayed reads the original topic back: exactly one record per
// Spring dead letter, byte for byte the dead letter's key and value, its
// headers without kafka_dlt-*, then the replay headers.
func dlCheckReplayed(ctx context.Context, t *testing.T, b *realkafka.Broker, id string) {
	t.Helper()
	dead := map[string]*kgo.Record{}
	for _, r := range dlReadAll(ctx, t, b, dlSpringTopic, dlSpringN) {
		dead[fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)] = r
	}
	got := dlReadAll(ctx, t, b, dlSpringSource, dlSpringN)
	if len(got) != dlSpringN {
		t.Fatalf("%s holds %d records, want %d (each dead letter once)", dlSpringSource, len(got), dlSpringN)
	}
	seen := map[string]bool{}
	for _, r := range got {
		of := dlHeader(r, dlq.HeaderReplayOf)
		d, ok := dead[of]
		if !ok || seen[of] {
			t.Errorf("replayed record with %s=%q: unknown or twice", dlq.HeaderReplayOf, of)
			continue
		}
		seen[of] = true
		var want []kgo.RecordHeader
		for _, h := range d.Headers {
			if !strings.HasPrefix(h.Key, "kafka_dlt-") {
				want = append(want, h)
			}
		}
		n := len(want)
		if !bytes.Equal(r.Key, d.Key) || !bytes.Equal(r.Value, d.Value) || len(r.Headers) != n+4 || !headersEqual(r.Headers[:n], want) ||
			dlHeader(r, dlq.HeaderReplayID) != id || dlHeader(r, dlq.HeaderReplayBy) != "alice" {
			t.Errorf("replayed %s: key %q value %s headers %v; want the dead letter's key, value and headers %v plus replay headers",
				of, r.Key, r.Value, r.Headers, want)
		}
	}
}

func headersEqual(a, b []kgo.RecordHeader) bool {
	for i := range a {
		if a[i].Key != b[i].Key || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return len(a) == len(b)
}

func dlHeader(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// dlReplayFrom counts the records of replay id on the original topic now.
func dlReplayFrom(t *testing.T, b *realkafka.Broker, id string) int {
	t.Helper()
	n := 0
	for _, r := range dlReadAll(context.Background(), t, b, dlSpringSource, 0) {
		if dlHeader(r, dlq.HeaderReplayID) == id {
			n++
		}
	}
	return n
}

// dlReadAll reads topic from the start until it has at least n records and
// a poll of two seconds brings nothing more.
func dlReadAll(ctx context.Context, t *testing.T, b *realkafka.Broker, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := b.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		rs := fs.Records()
		if len(rs) == 0 && len(out) >= n {
			break
		}
		out = append(out, rs...)
	}
	cl.Close()
	return out
}

func dlGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return dlDo(t, req)
}

func dlPost(t *testing.T, base, token string, body any) (int, string) {
	t.Helper()
	bs, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/dlq/replays", bytes.NewReader(bs))
	req.Header.Set("Authorization", "Bearer "+token)
	return dlDo(t, req)
}

func dlDo(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type dlReplayState struct {
	State string `json:"state"`
	Sent  int64  `json:"sent"`
}

func dlReplay(t *testing.T, base, id string) dlReplayState {
	t.Helper()
	var rp dlReplayState
	_, body := dlGet(t, base+"/api/v1/dlq/replays/"+id, dlReadToken)
	_ = json.Unmarshal([]byte(body), &rp)
	return rp
}

// dlOnly is the single cause of topic, nil unless there is exactly one.
func dlOnly(topics []dlq.TopicCauses, topic string) *dlq.CauseView {
	for _, tc := range topics {
		if tc.Topic == topic && len(tc.Causes) == 1 {
			return &tc.Causes[0]
		}
	}
	return nil
}
