//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/readers"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

var rdSeq atomic.Int64

// rdID is a fresh UUID v4.
func rdID() string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, rdSeq.Add(1))
}

// rdEvent is an AuthorWorks event.
func rdEvent(id, typ, version, source, corr string, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"meta": map[string]any{"id": id, "type": typ, "version": version, "source": source, "correlation_id": corr,
			"timestamp": time.Now().UTC().Format(time.RFC3339Nano)},
		"data": data,
	})
	return b
}

func rdDecode(v []byte) (id, typ, version, corr string, data map[string]any) {
	var m struct {
		Meta struct {
			ID            string `json:"id"`
			Type          string `json:"type"`
			Version       string `json:"version"`
			CorrelationID string `json:"correlation_id"`
		} `json:"meta"`
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal(v, &m)
	return m.Meta.ID, m.Meta.Type, m.Meta.Version, m.Meta.CorrelationID, m.Data
}

// rdConsume runs a franz-go group member that commits only the records
// handle returns true for (autocommit of marks), until ctx ends.
func rdConsume(ctx context.Context, t *testing.T, b *realkafka.Broker, wg *sync.WaitGroup, group string, topics []string, handle func(*kgo.Record) bool) {
	t.Helper()
	cl := b.Client(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...), kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(300*time.Millisecond), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				if handle(r) {
					cl.MarkCommitRecords(r)
				}
			})
		}
		_ = cl.CommitMarkedOffsets(context.Background())
	}()
}

func rdTypes(t *testing.T, d *dmDaemon, query string) readers.Estate {
	t.Helper()
	code, body := d.get(t, "/api/v1/types"+query)
	var e readers.Estate
	if code == 404 && strings.Contains(body, "no event type is known yet") {
		return e // nothing audited yet: the callers wait for what they need
	}
	if code != 200 || json.Unmarshal([]byte(body), &e) != nil {
		t.Fatalf("GET /api/v1/types%s: %d %s", query, code, body)
	}
	return e
}

func rdReaders(e readers.Estate, typ, version string) []string {
	tv, ok := e.Find(typ, version)
	if !ok {
		return nil
	}
	return groupsOf(tv.Readers)
}

// TestReadersRealKafka: three franz-go groups read a topic carrying two
// types in two versions (v1 on partition 0, v2 on partition 1); one of
// them, fulfilment, filters v1 out (it never commits what it does not
// process). /api/v1/types and `eventwatch catalog versions` name exactly
// the groups that read each type and version; v1 cannot be retired while
// its producer runs and can once the producer has been quiet for the
// retirement window; `eventwatch catalog impact` passes an additive
// schema and blocks a breaking one naming the live readers.
func TestReadersRealKafka(t *testing.T) {
	t.Parallel()
	b := realkafka.Start(t)
	ctx := dmContext(t, 6*time.Minute)
	adm := kadm.NewClient(b.Client(t))
	const topic = "shop.orders"
	dmCreateTopicN(ctx, t, adm, topic, 2)
	cfg := dmConfig(t, b.Addr(), t.TempDir())
	cfg.Audit.Profile = "authorworks"
	cfg.Lag.Interval = time.Second
	cfg.Readers.RetirementWindow = 15 * time.Second
	d := dmStart(t, cfg)
	d.waitReady(t)

	cctx, stopConsumers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { stopConsumers(); wg.Wait() })
	all := func(*kgo.Record) bool { return true }
	rdConsume(cctx, t, b, &wg, "billing", []string{topic}, all)
	rdConsume(cctx, t, b, &wg, "audit", []string{topic}, all)
	rdConsume(cctx, t, b, &wg, "fulfilment", []string{topic}, func(r *kgo.Record) bool {
		_, _, version, _, _ := rdDecode(r.Value)
		return version == "2.0" // filters v1 out: never processes, never commits it
	})

	producer := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var v1On atomic.Bool
	v1On.Store(true)
	var lastV1 atomic.Int64
	pctx, stopProducer := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		for i := 0; pctx.Err() == nil; i++ {
			// The records carry this timestamp (Kafka keeps milliseconds),
			// which is what eventwatch judges a version's last production
			// by; lastV1 is exactly it, not the later moment the broker
			// acknowledged them.
			at, v1 := time.Now().Truncate(time.Millisecond), v1On.Load()
			var recs []*kgo.Record
			for _, typ := range []string{"shop.order.placed", "shop.order.cancelled"} {
				data := map[string]any{"order_id": fmt.Sprintf("o-%d", i), "isbn": "978-0", "amount": i}
				if v1 {
					recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Key: []byte(data["order_id"].(string)), Timestamp: at,
						Value: rdEvent(rdID(), typ, "1.0", "legacy-shop", rdID(), data)})
				}
				recs = append(recs, &kgo.Record{Topic: topic, Partition: 1, Key: []byte(data["order_id"].(string)), Timestamp: at,
					Value: rdEvent(rdID(), typ, "2.0", "shop", rdID(), data)})
			}
			if err := producer.ProduceSync(pctx, recs...).FirstErr(); err != nil && pctx.Err() == nil {
				t.Errorf("produce: %v", err)
				return
			}
			if v1 {
				lastV1.Store(at.UnixNano())
			}
			select {
			case <-pctx.Done():
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { stopProducer(); pwg.Wait() })

	want := map[[2]string][]string{
		{"shop.order.placed", "1.0"}: {"audit", "billing"}, {"shop.order.cancelled", "1.0"}: {"audit", "billing"},
		{"shop.order.placed", "2.0"}: {"audit", "billing", "fulfilment"}, {"shop.order.cancelled", "2.0"}: {"audit", "billing", "fulfilment"},
	}
	var e readers.Estate
	dmEventually(t, "every group found reading what it reads", 2*time.Minute, func() bool {
		e = rdTypes(t, d, "")
		for k, groups := range want {
			if !slices.Equal(rdReaders(e, k[0], k[1]), groups) {
				return false
			}
		}
		return true
	})
	for k, groups := range want { // stays exact: fulfilment never becomes a v1 reader
		if got := rdReaders(rdTypes(t, d, ""), k[0], k[1]); !slices.Equal(got, groups) {
			t.Errorf("%s %s read by %v, want %v", k[0], k[1], got, groups)
		}
	}
	v1, _ := e.Find("shop.order.placed", "1.0")
	if v1.Retirement.Retirable || !strings.Contains(v1.Retirement.Verdict, "legacy-shop produced it") {
		t.Errorf("v1 while legacy-shop produces it: %q", v1.Retirement.Verdict)
	}

	bin := dmBinary(ctx, t, t.TempDir())
	t.Run("catalog impact", func(t *testing.T) {
		rdImpact(ctx, t, bin, d.url)
	})

	v1On.Store(false)
	dmEventually(t, "v1 retirable once its producer was quiet for the window", 2*time.Minute, func() bool {
		e := rdTypes(t, d, "?type=shop.order.placed&version=1")
		tv, ok := e.Find("shop.order.placed", "1.0")
		return ok && tv.Retirement.Retirable
	})
	if quiet := time.Since(time.Unix(0, lastV1.Load())); quiet < 15*time.Second {
		t.Errorf("v1 became retirable %s after its last event, before the 15s window", quiet)
	}
	out, err := exec.CommandContext(ctx, bin, "catalog", "versions", "--url", d.url, "--type", "shop.order.placed").CombinedOutput()
	if err != nil {
		t.Fatalf("catalog versions: %v\n%s", err, out)
	}
	for _, line := range []string{"v1.0 can be retired: no producer for 15 seconds, every reader also reads v2.0", "reader   fulfilment", "producer legacy-shop"} {
		if !strings.Contains(string(out), line) {
			t.Errorf("catalog versions lacks %q:\n%s", line, out)
		}
	}
}

// rdImpact runs the change-impact gate with an additive, a breaking and a
// bad invocation against the live readers of shop.order.placed v2.
func rdImpact(ctx context.Context, t *testing.T, bin, url string) {
	dir := t.TempDir()
	props := `"order_id":{"type":"string"},"amount":{"type":"integer"}`
	files := map[string]string{
		"additive.json": `{"type":"object","properties":{` + props + `,"isbn":{"type":"string"},"gift_note":{"type":"string"}},"required":["order_id"]}`,
		"breaking.json": `{"type":"object","properties":{` + props + `},"required":["order_id"]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (int, string) {
		cmd := exec.CommandContext(ctx, bin, append([]string{"catalog", "impact", "--url", url}, args...)...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	base := []string{"--type", "shop.order.placed", "--version", "2.0", "--schema"}
	if code, out := run(append(base, filepath.Join(dir, "additive.json"))...); code != 0 || !strings.Contains(out, "data.gift_note is new") ||
		!strings.Contains(out, "readers in the last 7 days: 3 audit, billing, fulfilment") {
		t.Errorf("additive: exit %d\n%s", code, out)
	}
	code, out := run(append(base, filepath.Join(dir, "breaking.json"), "--format", "json")...)
	var res struct {
		Blocked     bool
		Breaking    int
		LiveReaders []readers.Reader `json:"live_readers"`
		Changes     []struct{ Path string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || !res.Blocked || res.Breaking != 1 || res.Changes[0].Path != "data.isbn" {
		t.Errorf("breaking: exit %d, %+v\n%s", code, res, out)
	}
	if got := groupsOf(res.LiveReaders); !slices.Equal(got, []string{"audit", "billing", "fulfilment"}) {
		t.Errorf("breaking hits %v, want audit, billing, fulfilment", got)
	}
	if code, out := run("--type", "shop.order.placed", "--version", "2.0"); code != 2 {
		t.Errorf("without --schema: exit %d, want 2\n%s", code, out)
	}
}

func groupsOf(rs []readers.Reader) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Group
	}
	return out
}

// TestIdempotencyRealKafka: two relays read pay.requests; relay-a turns
// every delivery of a route-a request into a pay.payment.forwarded,
// relay-b archives each route-b request once, deduplicating by event id.
// One request per route is produced twice (a producer retry: same event
// id at the next offset). Only relay-a is reported not idempotent, with
// the duplicated request as its example; relay-b is idempotent; the
// cluster rule consumer.not_idempotent names relay-a alone.
func TestIdempotencyRealKafka(t *testing.T) {
	t.Parallel()
	b := realkafka.Start(t)
	ctx := dmContext(t, 6*time.Minute)
	adm := kadm.NewClient(b.Client(t))
	for _, topic := range []string{"pay.requests", "pay.forwarded", "pay.archived"} {
		dmCreateTopicN(ctx, t, adm, topic, 1)
	}
	cfg := dmConfig(t, b.Addr(), t.TempDir())
	cfg.Audit.Profile = "authorworks"
	cfg.Lag.Interval = time.Second
	// A relay's output joins its input's chain only inside the window: 10 s
	// keeps a loaded machine (slow produce round trips) from splitting them.
	cfg.Trace.Window = 10 * time.Second
	d := dmStart(t, cfg)
	d.waitReady(t)

	out := b.Client(t)
	emit := func(topic, typ, source, corr string, route any) {
		v := rdEvent(rdID(), typ, "1.0", source, corr, map[string]any{"route": route})
		if err := out.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil && ctx.Err() == nil {
			t.Errorf("relay produce: %v", err)
		}
	}
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	rdConsume(cctx, t, b, &wg, "relay-a", []string{"pay.requests"}, func(r *kgo.Record) bool {
		_, _, _, corr, data := rdDecode(r.Value)
		if data["route"] == "a" {
			emit("pay.forwarded", "pay.payment.forwarded", "relay-a", corr, "a") // every delivery: not idempotent
		}
		return true
	})
	seen := map[string]bool{}
	rdConsume(cctx, t, b, &wg, "relay-b", []string{"pay.requests"}, func(r *kgo.Record) bool {
		id, _, _, corr, data := rdDecode(r.Value)
		if data["route"] == "b" && !seen[id] {
			seen[id] = true
			emit("pay.archived", "pay.payment.archived", "relay-b", corr, "b")
		}
		return true
	})

	in := b.Client(t)
	var dupA string
	for i, route := range []string{"a", "b", "a", "b", "a", "b", "a", "b"} {
		id := rdID()
		v := rdEvent(id, "pay.payment.requested", "1.0", "checkout", rdID(), map[string]any{"route": route})
		recs := []*kgo.Record{{Topic: "pay.requests", Value: v}}
		if i >= 6 { // the last request of each route is sent twice
			recs = append(recs, &kgo.Record{Topic: "pay.requests", Value: v})
			if route == "a" {
				dupA = id
			}
		}
		if err := in.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	var verdicts map[string]readers.Idempotency
	defer func() {
		if t.Failed() {
			t.Logf("verdicts: %+v", verdicts)
		}
	}()
	dmEventually(t, "both relays judged", 3*time.Minute, func() bool {
		verdicts = map[string]readers.Idempotency{}
		for _, p := range rdTypes(t, d, "?type=pay.payment.requested").Idempotency {
			verdicts[p.Group] = p
		}
		return verdicts["relay-a"].Redelivered > 0 && verdicts["relay-b"].Redelivered > 0
	})
	a, bb := verdicts["relay-a"], verdicts["relay-b"]
	if a.Verdict != readers.VerdictNotIdempotent || a.Redelivered != 1 || a.Duplicated != 1 || len(a.Examples) != 1 ||
		a.Examples[0].EventID != dupA || len(a.Examples[0].Effects) != 2 || a.Examples[0].How != "producer_duplicate" {
		t.Errorf("relay-a: %+v, want not idempotent on %s with two effects", a, dupA)
	}
	if bb.Verdict != readers.VerdictIdempotent || bb.Redelivered != 1 || bb.Duplicated != 0 {
		t.Errorf("relay-b: %+v, want idempotent", bb)
	}
	dmEventually(t, "consumer.not_idempotent on relay-a", time.Minute, func() bool {
		return d.metric(t, "eventwatch_cluster_rule_violations", `rule="consumer.not_idempotent"`, `resource="relay-a@pay.payment.requested"`) == 1
	})
	if strings.Contains(d.scrape(t), `resource="relay-b@`) {
		t.Error("relay-b deduplicates and must not be reported")
	}
	if got := d.metric(t, "eventwatch_consumer_redelivered_inputs_total", `group="relay-a"`, `outcome="duplicate_effects"`); got != 1 {
		t.Errorf("relay-a duplicate_effects = %v, want 1", got)
	}
}
