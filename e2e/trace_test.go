//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/eventwatch/eventwatch/internal/demo"
	"github.com/eventwatch/eventwatch/internal/sample"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
	"github.com/eventwatch/eventwatch/internal/trace"
	"github.com/eventwatch/eventwatch/internal/trace/otlptest"
)

// The HuleEdu spellcheck flow the test drives: the test publishes the first
// event as batchorchestration; two kafkajs relays (e2e/node), traced by
// @opentelemetry/instrumentation-kafkajs, publish the next hops.
const (
	trTopicBatch = "e2e-trace.batch"
	trTopicEssay = "e2e-trace.essay"
	trTopicSpell = "e2e-trace.spell"
	trPathway    = "batchorchestration>essaylifecycle>spellchecker"
)

// trRelay is one Node relay of the flow.
type trRelay struct{ service, in, out, eventType string }

var trRelays = []trRelay{
	{"essaylifecycle", trTopicBatch, trTopicEssay, "huleedu.essaylifecycle.essay.spellcheck_requested.v1"},
	{"spellchecker", trTopicEssay, trTopicSpell, "huleedu.spellchecker.essay.spellcheck_completed.v1"},
}

// TestTraceKafkajsFlow: eventwatch samples a real broker passively, while
// services it did not write (kafkajs + OpenTelemetry) relay a correlated
// event; the stitcher must rebuild one chain of two hops with the latencies
// the events carry, and the OTLP receiver must get eventwatch's spans
// linked to the services' own producer spans (semantic conventions 1.37:
// CLIENT receive spans of service eventwatch, linked to the creation
// context), and never a second PRODUCER span of a send the relays traced
// themselves.
func TestTraceKafkajsFlow(t *testing.T) {
	bins.Require(t, "apt-get install -y nodejs npm", "node", "npm")
	nodeDir := trNodeModules(t)
	b := realkafka.Start(t)
	ctx := trContext(t, 4*time.Minute)
	for _, topic := range []string{trTopicBatch, trTopicEssay, trTopicSpell} {
		flowCreateTopic(ctx, t, b, topic, 1)
	}
	rcv := otlptest.Start(t)
	st, reg := trStartEventwatch(ctx, t, b, rcv)
	for _, r := range trRelays {
		out := trStartRelay(ctx, t, nodeDir, b.Addr(), rcv, r)
		trWaitOutput(ctx, t, out, "relay "+r.service+": joined group")
	}

	corr := uuid.NewString()
	root := trace.Traceparent{TraceID: [16]byte{0xe2, 0xe0, 1}, SpanID: [8]byte{0x5e, 0x2d, 1}, Sampled: true}
	copy(root.TraceID[3:], uuid.New().NodeID()) // a fresh trace per run
	trProduceFirst(ctx, t, b, corr, root)

	recs := trConsumeFlow(ctx, t, b)
	report := trWaitPathway(ctx, t, st)
	trCheckStitching(t, report, recs)
	trCheckMetrics(t, reg, recs)
	for _, h := range report.Hops {
		t.Logf("hop %s>%s: %d, %.3fs", h.From, h.To, h.Count, h.Latency.Max)
	}
	trCheckSpans(ctx, t, rcv, recs, root)
}

// trEvent is what the test reads back of one record of the flow.
type trEvent struct {
	topic, service, eventID string
	correlation             string
	offset                  int64
	partition               int32
	at                      time.Time // envelope time
	recordAt                time.Time // Kafka record time
	tp                      trace.Traceparent
}

func trContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// trNodeModules installs the relay's locked dependencies when they are not
// there yet and returns the relay's folder.
func trNodeModules(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs", "package.json")); err == nil {
		return dir
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return dir
}

// trStartEventwatch runs the real sampler (huleedu profile) feeding the
// stitcher, which exports spans over OTLP/gRPC to rcv.
func trStartEventwatch(ctx context.Context, t *testing.T, b *realkafka.Broker, rcv *otlptest.Receiver) (*trace.Stitcher, *prometheus.Registry) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg := prometheus.NewRegistry()
	yes := true
	st, err := trace.New(trace.Config{Window: 10 * time.Second, OTLP: trace.OTLPConfig{
		Enabled: true, Protocol: trace.ProtocolGRPC, Endpoint: rcv.GRPCAddr, Insecure: &yes}}, reg, log)
	if err != nil {
		t.Fatalf("trace.New: %v", err)
	}
	cfg := sample.Config{GroupID: "eventwatch-e2e-trace", TopicsInclude: []string{`e2e-trace\..*`},
		StartFrom: sample.StartEarliest, MetadataRefresh: time.Second}
	flowRunSampler(ctx, t, cfg, []kgo.Opt{kgo.SeedBrokers(b.Addr())}, st, reg, log, nil)
	return st, reg
}

// trStartRelay starts one kafkajs relay, exporting its own spans to rcv over
// OTLP/HTTP, and stops it (SIGTERM, which flushes its spans) when the test ends.
func trStartRelay(ctx context.Context, t *testing.T, dir, brokers string, rcv *otlptest.Receiver, r trRelay) *trSafeBuffer {
	t.Helper()
	return flowStartRelay(ctx, t, dir, r.service, []string{
		"RELAY_BROKERS=" + brokers, "RELAY_IN_TOPIC=" + r.in, "RELAY_OUT_TOPIC=" + r.out,
		"RELAY_SERVICE=" + r.service, "RELAY_EVENT_TYPE=" + r.eventType, "RELAY_GROUP=e2e-" + r.service,
		"OTEL_SERVICE_NAME=" + r.service, "OTEL_TRACES_EXPORTER=otlp", "OTEL_METRICS_EXPORTER=none",
		"OTEL_LOGS_EXPORTER=none", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + strings.TrimSuffix(rcv.HTTPURL, "/v1/traces"),
		"OTEL_BSP_SCHEDULE_DELAY=200", "KAFKAJS_NO_PARTITIONER_WARNING=1"})
}

// trWaitOutput waits until a child printed want.
func trWaitOutput(ctx context.Context, t *testing.T, out *trSafeBuffer, want string) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(out.String(), want) {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %q: %v\n%s", want, ctx.Err(), out.String())
		case <-tick.C:
		}
	}
}

// trProduceFirst publishes the flow's first event, traced by the test as
// batchorchestration.
func trProduceFirst(ctx context.Context, t *testing.T, b *realkafka.Broker, corr string, root trace.Traceparent) {
	t.Helper()
	value, err := json.Marshal(map[string]any{
		"event_id": uuid.NewString(), "event_type": "huleedu.batchorchestration.batch.pipelines_configured.v1",
		"event_timestamp": time.Now().UTC().Format(time.RFC3339Nano), "source_service": "batchorchestration",
		"correlation_id": corr, "data": map[string]any{"batch_id": "b-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &kgo.Record{Topic: trTopicBatch, Key: []byte("b-1"), Value: value,
		Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte(root.String())}}}
	// kafkajs reads no snappy (franz-go's default codec) without a plugin.
	cl := b.Client(t, kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("produce first event: %v", err)
	}
}

// trConsumeFlow reads the three events of the flow back from Kafka.
func trConsumeFlow(ctx context.Context, t *testing.T, b *realkafka.Broker) []trEvent {
	t.Helper()
	cl := b.Client(t, kgo.ConsumeTopics(trTopicBatch, trTopicEssay, trTopicSpell),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	byTopic := map[string]trEvent{}
	for len(byTopic) < 3 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("flow incomplete: read %d of 3 events (relays did not relay): %v", len(byTopic), ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) { byTopic[r.Topic] = trDecode(t, r) })
	}
	return []trEvent{byTopic[trTopicBatch], byTopic[trTopicEssay], byTopic[trTopicSpell]}
}

func trDecode(t *testing.T, r *kgo.Record) trEvent {
	t.Helper()
	var env struct {
		EventID     string    `json:"event_id"`
		Source      string    `json:"source_service"`
		Correlation string    `json:"correlation_id"`
		At          time.Time `json:"event_timestamp"`
	}
	if err := json.Unmarshal(r.Value, &env); err != nil {
		t.Fatalf("decode %s@%d: %v", r.Topic, r.Offset, err)
	}
	e := trEvent{topic: r.Topic, service: env.Source, eventID: env.EventID, correlation: env.Correlation,
		offset: r.Offset, partition: r.Partition, at: env.At, recordAt: r.Timestamp}
	for _, h := range r.Headers {
		if h.Key == "traceparent" {
			tp, err := trace.ParseTraceparent(string(h.Value))
			if err != nil {
				t.Fatalf("%s: traceparent %q: %v", r.Topic, h.Value, err)
			}
			e.tp = tp
		}
	}
	if !e.tp.TraceID.IsValid() {
		t.Fatalf("%s: no traceparent header; kafkajs instrumentation did not propagate", r.Topic)
	}
	return e
}

// trWaitPathway waits until the stitcher closed the flow's chain.
func trWaitPathway(ctx context.Context, t *testing.T, st *trace.Stitcher) trace.Report {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		r := st.Flows()
		for _, p := range r.Pathways {
			if p.Pathway == trPathway {
				return r
			}
		}
		select {
		case <-ctx.Done():
			body, _ := json.MarshalIndent(r, "", "  ")
			t.Fatalf("pathway %s never closed: %s", trPathway, body)
		case <-tick.C:
		}
	}
}

func trCheckStitching(t *testing.T, r trace.Report, recs []trEvent) {
	t.Helper()
	for _, e := range recs[1:] {
		if e.correlation != recs[0].correlation || e.tp.TraceID != recs[0].tp.TraceID {
			t.Fatalf("relay broke the chain: %+v vs %+v", e, recs[0])
		}
	}
	if len(r.Pathways) != 1 || r.Pathways[0].Hops != 2 || r.Pathways[0].Count != 1 {
		t.Fatalf("pathways = %+v, want one chain of 2 hops", r.Pathways)
	}
	if got, want := r.Pathways[0].Latency.Max, recs[2].at.Sub(recs[0].at).Seconds(); !trSame(got, want) {
		t.Errorf("pathway latency %v s, want %v s (from the events' timestamps)", got, want)
	}
	for i := 1; i < 3; i++ {
		want := recs[i].at.Sub(recs[i-1].at).Seconds()
		if h := trHop(r, recs[i-1].service, recs[i].service); h == nil || h.Count != 1 || !trSame(h.Latency.Max, want) {
			t.Errorf("hop %s>%s = %+v, want one hop of %v s", recs[i-1].service, recs[i].service, h, want)
		}
	}
	if len(r.BrokenChains) != 0 {
		t.Errorf("broken chains in a flow every service propagates: %+v", r.BrokenChains)
	}
}

// trCheckMetrics checks the hop and pathway histograms on the registry
// eventwatch serves on /metrics.
func trCheckMetrics(t *testing.T, reg *prometheus.Registry, recs []trEvent) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	want := map[string]float64{
		"eventwatch_hop_latency_seconds{from_service=batchorchestration,to_service=essaylifecycle}": recs[1].at.Sub(recs[0].at).Seconds(),
		"eventwatch_hop_latency_seconds{from_service=essaylifecycle,to_service=spellchecker}":       recs[2].at.Sub(recs[1].at).Seconds(),
		"eventwatch_pathway_latency_seconds{pathway=" + trPathway + "}":                             recs[2].at.Sub(recs[0].at).Seconds(),
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetHistogram().GetSampleCount() != 1 {
				continue
			}
			var lbl []string
			for _, lp := range m.GetLabel() {
				lbl = append(lbl, lp.GetName()+"="+lp.GetValue())
			}
			got[mf.GetName()+"{"+strings.Join(lbl, ",")+"}"] = m.GetHistogram().GetSampleSum()
		}
	}
	for k, v := range want {
		if s, ok := got[k]; !ok || !trSame(s, v) {
			t.Errorf("%s: one observation of %v s expected, got %v (present %v)", k, v, s, ok)
		}
	}
}

func trHop(r trace.Report, from, to string) *trace.HopStats {
	for i := range r.Hops {
		if r.Hops[i].From == from && r.Hops[i].To == to {
			return &r.Hops[i]
		}
	}
	return nil
}

func trSame(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

// trCheckSpans waits for eventwatch's three spans and the relays' own
// producer spans, then checks they form one connected trace.
func trCheckSpans(ctx context.Context, t *testing.T, rcv *otlptest.Receiver, recs []trEvent, root trace.Traceparent) {
	t.Helper()
	const scope = "github.com/eventwatch/eventwatch/internal/trace"
	parents := map[string]bool{}
	for _, e := range recs[1:] {
		parents[e.tp.SpanID.String()] = true
	}
	spans, err := rcv.Wait(ctx, func(ss []otlptest.Span) bool {
		ours, theirs := 0, 0
		for _, s := range ss {
			if s.Scope == scope {
				ours++
			} else if parents[s.SpanID] {
				theirs++
			}
		}
		return ours == 3 && theirs == 2
	})
	if err != nil {
		t.Fatalf("OTLP receiver: %v\n%s", err, trDump(spans))
	}
	byID := map[string]otlptest.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	trNoDuplicateProducer(t, spans, scope)
	for _, e := range recs {
		s := trOurSpan(spans, scope, e.eventID)
		if s == nil {
			t.Fatalf("no eventwatch span for %s event %s", e.topic, e.eventID)
		}
		if len(s.Links) != 1 || s.Links[0].TraceID != root.TraceID.String() || s.Links[0].SpanID != e.tp.SpanID.String() ||
			s.ParentSpanID != "" || s.Service != "eventwatch" {
			t.Errorf("%s span: parent %q links %+v service %s, want a root linked to %s/%s as eventwatch", e.topic, s.ParentSpanID, s.Links, s.Service,
				root.TraceID, e.tp.SpanID)
		}
		if s.Start.Before(e.recordAt) || !s.End.Equal(s.Start) || s.Name != "poll "+e.topic || s.Kind != tracepb.Span_SPAN_KIND_CLIENT ||
			s.Attributes["messaging.message.conversation_id"] != e.correlation ||
			s.Attributes["messaging.kafka.offset"] != fmt.Sprint(e.offset) || s.Attributes["messaging.operation.type"] != "receive" {
			t.Errorf("%s span = %+v", e.topic, s)
		}
		if e.topic == trTopicBatch {
			continue
		}
		parent, ok := byID[s.Links[0].SpanID]
		if !ok || parent.Service != e.service || parent.Name != "send "+e.topic || parent.TraceID != root.TraceID.String() {
			t.Errorf("%s: linked span %s is not the relay's kafkajs producer span: %+v", e.topic, s.Links[0].SpanID, parent)
		}
	}
}

// trNoDuplicateProducer fails when eventwatch exported anything but its own
// CLIENT span for a record whose producer traced it (a traceparent), or
// a PRODUCER span not marked synthesized.
func trNoDuplicateProducer(t *testing.T, spans []otlptest.Span, scope string) {
	t.Helper()
	for _, s := range spans {
		if s.Scope != scope {
			continue
		}
		traced := s.Attributes["eventwatch.context.origin"] == "traceparent"
		if traced && (s.Kind != tracepb.Span_SPAN_KIND_CLIENT || s.Service != "eventwatch") {
			t.Errorf("eventwatch repeats a traced producer's send: %+v", s)
		}
		if s.Kind == tracepb.Span_SPAN_KIND_PRODUCER && s.Attributes["eventwatch.synthesized"] != "true" {
			t.Errorf("a producer span eventwatch made is not marked synthesized: %+v", s)
		}
	}
}

func trOurSpan(spans []otlptest.Span, scope, eventID string) *otlptest.Span {
	for i := range spans {
		if spans[i].Scope == scope && spans[i].Attributes["messaging.message.id"] == eventID {
			return &spans[i]
		}
	}
	return nil
}

func trDump(spans []otlptest.Span) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "%s %s %q trace=%s span=%s parent=%s\n", s.Service, s.Scope, s.Name, s.TraceID, s.SpanID, s.ParentSpanID)
	}
	return b.String()
}

// trSafeBuffer collects a child's output from two pipes.
type trSafeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *trSafeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *trSafeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*trSafeBuffer)(nil)

// TestTraceDemoOTLP: the demo's multi-hop flows, exported with nothing but
// the standard OTEL_* variables, reach an OTLP receiver as connected traces
// (one trace holding eventwatch's observation of every hop of a pathway;
// the demo's services write traceparent, so no span poses as them), and
// their hop latencies are on /metrics.
func TestTraceDemoOTLP(t *testing.T) {
	rcv := otlptest.Start(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+rcv.GRPCAddr)
	ctx := trContext(t, 3*time.Minute)
	base := trStartDemo(ctx, t)

	var flows trace.Report
	var pathway trace.PathwayStats
	trPoll(ctx, t, "a closed pathway of two hops or more on /api/v1/flows", func() bool {
		if err := trGetJSON(ctx, base+"/api/v1/flows", &flows); err != nil {
			return false
		}
		for _, p := range flows.Pathways {
			if p.Hops >= 2 && len(p.Services) == p.Hops+1 {
				pathway = p
				return true
			}
		}
		return false
	})
	spans, err := rcv.Wait(ctx, func(ss []otlptest.Span) bool { return trObservedHops(ss, len(pathway.Services)) != "" })
	if err != nil {
		t.Fatalf("no trace holds eventwatch's observations of the %d events of a %s flow: %v", len(pathway.Services), pathway.Pathway, err)
	}
	trNoDuplicateProducer(t, spans, "github.com/eventwatch/eventwatch/internal/trace")
	metrics := trGet(ctx, t, base+"/metrics")
	for i := 1; i < len(pathway.Services); i++ {
		line := fmt.Sprintf("eventwatch_hop_latency_seconds_count{from_service=%q,to_service=%q}", pathway.Services[i-1], pathway.Services[i])
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if !strings.Contains(metrics, fmt.Sprintf("eventwatch_pathway_latency_seconds_count{pathway=%q}", pathway.Pathway)) {
		t.Errorf("/metrics lacks the pathway latency of %s", pathway.Pathway)
	}
}

// trStartDemo runs the demo in-process on free loopback ports and returns
// its HTTP base URL once it serves.
func trStartDemo(ctx context.Context, t *testing.T) string {
	t.Helper()
	served := make(chan string, 1)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(runCtx, demo.Options{KafkaAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			DataDir: t.TempDir(), Stdout: io.Discard, LogOutput: io.Discard,
			OnServing: func(httpAddr, _ string) { served <- httpAddr }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("demo: %v", err)
		}
	})
	select {
	case addr := <-served:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("demo stopped before serving: %v", err)
	case <-ctx.Done():
		t.Fatalf("demo not serving: %v", ctx.Err())
	}
	return ""
}

// trObservedHops returns a trace id whose messages eventwatch observed on
// at least n different topics (its observations are linked to the
// messages' creation contexts), or "".
func trObservedHops(spans []otlptest.Span, n int) string {
	byTrace := map[string]map[string]bool{}
	for _, s := range spans {
		if s.Service != "eventwatch" || s.Kind != tracepb.Span_SPAN_KIND_CLIENT || len(s.Links) != 1 {
			continue
		}
		id := s.Links[0].TraceID
		if byTrace[id] == nil {
			byTrace[id] = map[string]bool{}
		}
		byTrace[id][s.Attributes["messaging.destination.name"]] = true
	}
	for id, topics := range byTrace {
		if len(topics) >= n {
			return id
		}
	}
	return ""
}

// trPoll checks cond every 500ms until it holds or ctx ends.
func trPoll(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// trGetJSON GETs url, wants a 200 and decodes the body into v.
func trGetJSON(ctx context.Context, url string, v any) error {
	body, _, err := rpGet(ctx, url)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(body), v)
}

func trGet(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return string(body)
}
