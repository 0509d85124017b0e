//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/sample"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
	"github.com/eventwatch/eventwatch/internal/trace"
)

// The estate of TestFlowEstate: services nobody on the project wrote
// (kafkajs relays, e2e/node) on a real broker, with every shape that made
// inference guess.
//
//	batchorchestration (the test, traceparent) ─► essaylifecycle (traced, fan-out 2)
//	  ─► normalizer (NOT instrumented: no traceparent, no spans)
//	  ─► spellchecker (traced; a late consumer: it starts only once the
//	     chains closed, so it is behind by more than trace.window)
//
// Every relayed event names its cause in data.caused_by: the ground truth.
const (
	esChains   = 4
	esPerChain = 1 + 2 + 2 + 2
	esPathway  = "batchorchestration>essaylifecycle>normalizer>spellchecker"
	esWindow   = 4 * time.Second
)

// esRelay is one service of the estate.
type esRelay struct {
	service, in, out, eventType string
	env                         []string
}

// TestFlowEstate runs the estate twice: with the services' spans exported
// to the Kafka topic eventwatch reads (the OpenTelemetry SDK in Node with a
// Kafka exporter writing otlp_proto, as the Collector's Kafka exporter
// does), and without span export. With spans every event's upstream is the
// true one, the hops its spans tell are exact, there is no phantom pathway
// and latencies are exact to the millisecond; without spans no event is
// attached to a wrong upstream (those inference cannot decide are counted
// ambiguous) and no service is its own upstream.
func TestFlowEstate(t *testing.T) {
	bins.Require(t, "apt-get install -y nodejs npm", "node", "npm")
	nodeDir := trNodeModules(t)
	b := realkafka.Start(t)
	t.Run("spans", func(t *testing.T) { esRun(t, b, nodeDir, true) })
	t.Run("no_spans", func(t *testing.T) { esRun(t, b, nodeDir, false) })
}

func esRun(t *testing.T, b *realkafka.Broker, nodeDir string, withSpans bool) {
	ctx := trContext(t, 3*time.Minute)
	run := map[bool]string{true: "estate-spans", false: "estate-plain"}[withSpans]
	topic := func(s string) string { return run + "." + s }
	spansTopic := run + "-otlp_spans"
	for name, parts := range map[string]int32{topic("batch"): 1, topic("essay"): 2, topic("norm"): 2, topic("spell"): 1, spansTopic: 1} {
		flowCreateTopic(ctx, t, b, name, parts)
	}
	st := esStartEventwatch(ctx, t, b, run, spansTopic, withSpans)
	traced := []string{"OTEL_TRACES_EXPORTER=none"}
	if withSpans {
		traced = []string{"OTEL_TRACES_EXPORTER=kafka", "OTEL_EXPORTER_KAFKA_TOPIC=" + spansTopic, "OTEL_BSP_SCHEDULE_DELAY=200"}
	}
	essay := esRelay{"essaylifecycle", topic("batch"), topic("essay"), "huleedu.essaylifecycle.essay.spellcheck_requested.v1",
		append([]string{"RELAY_FANOUT=2"}, traced...)}
	norm := esRelay{"normalizer", topic("essay"), topic("norm"), "huleedu.normalizer.essay.normalized.v1", []string{"RELAY_TRACING=off"}}
	spell := esRelay{"spellchecker", topic("norm"), topic("spell"), "huleedu.spellchecker.essay.spellcheck_completed.v1",
		append([]string{"RELAY_KEY=none"}, traced...)}
	for _, r := range []esRelay{essay, norm} {
		trWaitOutput(ctx, t, esStartRelay(ctx, t, nodeDir, b.Addr(), run, r), "relay "+r.service+": joined group")
	}
	for i := range esChains {
		esProduceBatch(ctx, t, b, topic("batch"), i)
	}
	// The spellchecker is a late consumer: it starts once every chain has
	// closed without it (more than trace.window after their last event).
	wait.Check(ctx, t, "the chains to close before the spellchecker consumes", func() error {
		if r := st.Flows(); r.ClosedChains != esChains || r.OpenChains != 0 || esDecided(r) != esChains*5 {
			return fmt.Errorf("closed %d, open %d, decided %d", r.ClosedChains, r.OpenChains, esDecided(r))
		}
		return nil
	})
	trWaitOutput(ctx, t, esStartRelay(ctx, t, nodeDir, b.Addr(), run, spell), "relay spellchecker: joined group")
	truth := esReadTruth(ctx, t, b, topic)
	var r trace.Report
	last := time.Now()
	wait.Check(ctx, t, "the late events to join their chains and every chain to close again", func() error {
		r = st.Flows()
		if time.Since(last) > 15*time.Second {
			last = time.Now()
			t.Logf("waiting: open %d, closed %d, causation %+v, late %d", r.OpenChains, r.ClosedChains, r.Causation, r.LateEvents)
		}
		if r.OpenChains != 0 || esDecided(r) != esChains*esPerChain || r.LateEvents < esChains { // the first late event of each chain reopens it
			return fmt.Errorf("open %d, decided %d of %d, late %d", r.OpenChains, esDecided(r), esChains*esPerChain, r.LateEvents)
		}
		return nil
	})
	body, _ := json.MarshalIndent(r, "", "  ")
	t.Logf("flows (%s):\n%s", run, body)
	esCheckUpstreams(t, r, truth, withSpans)
	esCheckPathwaysAndHops(t, r, truth, withSpans)
}

// esDecided is how many events of closed chains had their cause decided.
func esDecided(r trace.Report) uint64 {
	c := r.Causation
	return c.Exact + c.Inferred + c.Ambiguous + c.Root
}

// esStartEventwatch runs eventwatch's real sampler and audit engine
// (huleedu profile) into a stitcher that, with spans, reads spansTopic in
// its own group.
func esStartEventwatch(ctx context.Context, t *testing.T, b *realkafka.Broker, run, spansTopic string, withSpans bool) *trace.Stitcher {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg := prometheus.NewRegistry()
	cfg := trace.Config{Window: esWindow, LateWindow: 3 * time.Minute, RecentChains: 50}
	if withSpans {
		cfg.Spans = trace.SpansConfig{Enabled: true, Topic: spansTopic, Group: run + "-eventwatch-spans", StartFrom: "earliest"}
	}
	st, err := trace.New(cfg, reg, log)
	if err != nil {
		t.Fatalf("trace.New: %v", err)
	}
	base := []kgo.Opt{kgo.SeedBrokers(b.Addr())}
	if withSpans {
		st.EnableSpanTopic(base)
	}
	scfg := sample.Config{GroupID: run + "-eventwatch", TopicsInclude: []string{regexp.QuoteMeta(run) + `\..*`},
		StartFrom: sample.StartEarliest, MetadataRefresh: time.Second}
	flowRunSampler(ctx, t, scfg, base, st, reg, log, func(sm *sample.Sampler) { st.SetLeaderLookup(sm.FetchedFrom) })
	return st
}

// esStartRelay starts one relay of the estate and stops it (SIGTERM, which
// flushes its spans) when the test ends.
func esStartRelay(ctx context.Context, t *testing.T, dir, brokers, run string, r esRelay) *trSafeBuffer {
	t.Helper()
	return flowStartRelay(ctx, t, dir, r.service, append([]string{
		"RELAY_BROKERS=" + brokers, "RELAY_IN_TOPIC=" + r.in, "RELAY_OUT_TOPIC=" + r.out,
		"RELAY_SERVICE=" + r.service, "RELAY_EVENT_TYPE=" + r.eventType, "RELAY_GROUP=" + run + "-" + r.service,
		"OTEL_SERVICE_NAME=" + r.service, "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none",
		"KAFKAJS_NO_PARTITIONER_WARNING=1"}, r.env...))
}

// esProduceBatch publishes the first event of chain i, traced by the test
// as batchorchestration (a fresh trace per chain).
func esProduceBatch(ctx context.Context, t *testing.T, b *realkafka.Broker, topic string, i int) {
	t.Helper()
	value, err := json.Marshal(map[string]any{
		"event_id": uuid.NewString(), "event_type": "huleedu.batchorchestration.batch.pipelines_configured.v1",
		"event_timestamp": time.Now().UTC().Format(time.RFC3339Nano), "source_service": "batchorchestration",
		"correlation_id": uuid.NewString(), "data": map[string]any{"batch_id": fmt.Sprint("b-", i)},
	})
	if err != nil {
		t.Fatal(err)
	}
	tp := trace.Traceparent{Sampled: true}
	copy(tp.TraceID[:], uuid.New().NodeID())
	copy(tp.TraceID[6:], uuid.New().NodeID())
	tp.TraceID[0], tp.SpanID[0], tp.SpanID[7] = 0xe5, 0xba, byte(i+1)
	rec := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint("batch-", i)), Value: value,
		Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte(tp.String())}}}
	cl := b.Client(t, kgo.ProducerBatchCompression(kgo.NoCompression())) // kafkajs reads no snappy
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("produce batch event: %v", err)
	}
}

// esEvent is one record of the estate as the test reads it back.
type esEvent struct {
	id, service, causedBy string
	at                    time.Time
}

// esReadTruth reads every event of the estate back: the ground truth.
func esReadTruth(ctx context.Context, t *testing.T, b *realkafka.Broker, topic func(string) string) map[string]esEvent {
	t.Helper()
	cl := b.Client(t, kgo.ConsumeTopics(topic("batch"), topic("essay"), topic("norm"), topic("spell")),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	out := map[string]esEvent{}
	for len(out) < esChains*esPerChain {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("estate incomplete: read %d of %d events: %v", len(out), esChains*esPerChain, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			var env struct {
				EventID string    `json:"event_id"`
				Source  string    `json:"source_service"`
				At      time.Time `json:"event_timestamp"`
				Data    struct {
					CausedBy string `json:"caused_by"`
				} `json:"data"`
			}
			if err := json.Unmarshal(r.Value, &env); err != nil {
				t.Fatalf("decode %s@%d: %v", r.Topic, r.Offset, err)
			}
			out[env.EventID] = esEvent{id: env.EventID, service: env.Source, causedBy: env.Data.CausedBy, at: env.At}
		})
	}
	return out
}

// esCheckUpstreams compares every event's upstream, as /api/v1/flows
// shows it, with the truth.
func esCheckUpstreams(t *testing.T, r trace.Report, truth map[string]esEvent, withSpans bool) {
	t.Helper()
	seen, wrong, ambiguous := 0, 0, 0
	for _, c := range r.RecentChains {
		for _, e := range c.Events {
			want, ok := truth[e.EventID]
			if !ok {
				continue
			}
			seen++
			got := ""
			if e.Upstream >= 0 {
				got = c.Events[e.Upstream].EventID
			}
			var cands []string
			for _, k := range e.Candidates {
				cands = append(cands, c.Events[k].EventID)
			}
			switch {
			case got == want.causedBy:
			case got == "" && e.Causation == trace.CauseAmbiguous && slices.Contains(cands, want.causedBy):
				ambiguous++
			default:
				wrong++
				t.Errorf("%s event %s: upstream %q (%s, candidates %v), truth %q", want.service, e.EventID, got, e.Causation, cands, want.causedBy)
			}
			if withSpans && (want.service == "essaylifecycle" || want.service == "spellchecker") && e.Causation != trace.CauseExact {
				t.Errorf("%s event %s: causation %s, want exact (its spans were exported)", want.service, e.EventID, e.Causation)
			}
		}
	}
	if seen != len(truth) {
		t.Errorf("/api/v1/flows shows %d of the %d events in its recent chains", seen, len(truth))
	}
	if withSpans && ambiguous > 0 {
		t.Errorf("%d events ambiguous although spans tell", ambiguous)
	}
	if uint64(ambiguous) != r.Causation.Ambiguous {
		t.Errorf("ambiguous events: %d in the chains, %d counted", ambiguous, r.Causation.Ambiguous)
	}
	t.Logf("%d events: %d wrong, %d ambiguous (causation %+v)", seen, wrong, ambiguous, r.Causation)
}

// esCheckPathwaysAndHops: only the true pathway, no same-service hop, hop
// counts and latencies (exact to the millisecond) as the truth has them.
func esCheckPathwaysAndHops(t *testing.T, r trace.Report, truth map[string]esEvent, withSpans bool) {
	t.Helper()
	for _, p := range r.Pathways {
		if p.Pathway != esPathway {
			t.Errorf("phantom pathway %s (%d flows)", p.Pathway, p.Count)
		}
	}
	flows := uint64(0)
	if len(r.Pathways) > 0 {
		flows = r.Pathways[0].Count
	}
	if flows+r.AmbiguousFlows != esChains*2 || (withSpans && flows != esChains*2) {
		t.Errorf("flows %d (+%d ambiguous), want %d", flows, r.AmbiguousFlows, esChains*2)
	}
	type pair struct{ from, to string }
	want, maxLat := map[pair]int{}, map[pair]time.Duration{}
	for _, e := range truth {
		if up, ok := truth[e.causedBy]; ok {
			k := pair{up.service, e.service}
			want[k]++
			maxLat[k] = max(maxLat[k], e.at.Sub(up.at))
		}
	}
	amb := map[pair]uint64{}
	for _, a := range r.AmbiguousHops {
		amb[pair{a.From, a.To}] += a.Count
	}
	for _, h := range r.Hops {
		k := pair{h.From, h.To}
		if h.From == h.To {
			t.Errorf("same-service hop %s>%s (%d)", h.From, h.To, h.Count)
		}
		if h.Count+amb[k] != uint64(want[k]) {
			t.Errorf("hop %s>%s: %d (+%d ambiguous), truth %d", h.From, h.To, h.Count, amb[k], want[k])
		}
		if got := time.Duration(h.Latency.Max * float64(time.Second)); (withSpans || amb[k] == 0) && (got-maxLat[k]).Abs() >= time.Millisecond {
			t.Errorf("hop %s>%s: max latency %v, truth %v", h.From, h.To, got, maxLat[k])
		}
		delete(want, k)
	}
	for k, n := range want {
		if amb[k] != uint64(n) {
			t.Errorf("hop %s>%s missing: truth %d, ambiguous %d", k.from, k.to, n, amb[k])
		}
	}
}
