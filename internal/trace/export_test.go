package trace

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/sdk"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/eventwatch/eventwatch/internal/trace/otlptest"
)

// runExport feeds evs through a running stitcher that exports to cfg and
// returns once Run has flushed on shutdown.
func runExport(t *testing.T, cfg Config, evs []ev, opts ...func(*fixture)) *fixture {
	t.Helper()
	f := newFixture(t, cfg)
	for _, o := range opts {
		o(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.s.Run(ctx) }()
	for _, e := range evs {
		rec, res := e.record()
		f.s.Observe(rec, res)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	return f
}

func otlpConfig(protocol, endpoint string) Config {
	yes := true
	return Config{Window: time.Hour, OTLP: OTLPConfig{Enabled: true, Protocol: protocol, Endpoint: endpoint, Insecure: &yes}}
}

func bySpanName(spans []otlptest.Span) map[string]otlptest.Span {
	m := map[string]otlptest.Span{}
	for _, s := range spans {
		m[s.Attributes["messaging.message.id"]] = s
	}
	return m
}

// TestExportJoinsServiceTraces checks eventwatch's spans against the
// OpenTelemetry messaging conventions 1.37: for records their producers
// traced, eventwatch exports only its own observation — a receive
// operation, so a CLIENT span, named "{messaging.operation.name}
// {destination}" with Kafka's operation name poll, of service eventwatch,
// linked to the message's creation context (the producer's send span)
// rather than parented by it — never a second producer span; with
// messaging.client.id, the consumer group, server.address of the broker
// the record was fetched from (its leader), a duration of zero and the
// time the record spent in the log as an attribute; schema URL and
// resource.
func TestExportJoinsServiceTraces(t *testing.T) {
	for _, protocol := range []string{ProtocolGRPC, ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			rcv := otlptest.Start(t)
			endpoint := rcv.GRPCAddr
			if protocol == ProtocolHTTP {
				endpoint = rcv.HTTPURL
			}
			flow := threeHop("corr-otlp")
			for i := range flow {
				flow[i].key = "essay-" + itoa(int64(i))
			}
			cfg := otlpConfig(protocol, endpoint)
			cfg.OTLP.ServiceVersion, cfg.OTLP.InstanceID, cfg.OTLP.ConsumerGroup = "1.2.3", "replica-a", "eventwatch"
			cfg.OTLP.ClientID = "eventwatch-sampler"
			cfg.OTLP.Brokers = []string{"kafka-0.kafka:9093", "kafka-1.kafka:9093"}
			read := t0.Add(2 * time.Second)
			f := runExport(t, cfg, flow, func(f *fixture) {
				f.clk.now = read
				f.s.SetLeaderLookup(func(topic string, _ int32) (string, bool) {
					return "kafka-2.kafka:9093", topic != "huleedu.spellcheck.results" // the last one: not known, the bootstrap broker
				})
			})
			spans := rcv.Spans()
			if len(spans) != 3 {
				t.Fatalf("received %d spans, want 3 (one observation per record): %+v", len(spans), spans)
			}
			got := bySpanName(spans)
			parents := map[string]string{"e1": spanA1, "e2": spanA2, "e3": spanA3}
			for i, e := range flow {
				s, ok := got[e.id]
				if !ok {
					t.Fatalf("no span for event %s", e.id)
				}
				rec, _ := e.record()
				if s.Service != "eventwatch" || s.ParentSpanID != "" || s.TraceID == traceA {
					t.Errorf("%s: trace %s parent %q service %s, want a root of its own trace as eventwatch", e.id, s.TraceID, s.ParentSpanID, s.Service)
				}
				if len(s.Links) != 1 || s.Links[0].TraceID != traceA || s.Links[0].SpanID != parents[e.id] {
					t.Errorf("%s: links %+v, want one to the creation context %s/%s", e.id, s.Links, traceA, parents[e.id])
				}
				if s.Name != "poll "+e.topic || s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
					t.Errorf("%s: name %q kind %v, want a CLIENT span named poll %s", e.id, s.Name, s.Kind, e.topic)
				}
				if !s.Start.Equal(read) || !s.End.Equal(s.Start) {
					t.Errorf("%s: start %v end %v, want both when eventwatch read the record (%v)", e.id, s.Start, s.End, read)
				}
				server := "kafka-2.kafka"
				if e.topic == "huleedu.spellcheck.results" {
					server = "kafka-0.kafka"
				}
				want := map[string]string{
					"messaging.system": "kafka", "messaging.destination.name": e.topic,
					"messaging.destination.partition.id": "0", "messaging.kafka.offset": itoa(e.offset),
					"messaging.message.conversation_id": "corr-otlp", "messaging.operation.type": "receive",
					"messaging.operation.name": "poll", "messaging.client.id": "eventwatch-sampler",
					"messaging.kafka.message.key": "essay-" + itoa(int64(i)), "messaging.consumer.group.name": "eventwatch",
					"server.address": server, "server.port": "9093", "eventwatch.context.origin": "traceparent",
					"eventwatch.kafka.time_in_log": strconv.FormatFloat(read.Sub(rec.Timestamp).Seconds(), 'f', -1, 64),
				}
				for k, v := range want {
					if s.Attributes[k] != v {
						t.Errorf("%s: attribute %s = %q, want %q", e.id, k, s.Attributes[k], v)
					}
				}
				if _, ok := s.Attributes["eventwatch.synthesized"]; ok {
					t.Errorf("%s: eventwatch's own observation is marked synthesized", e.id)
				}
				checkResource(t, s, map[string]string{"service.name": "eventwatch", "service.version": "1.2.3", "service.instance.id": "replica-a"})
			}
			if n := counter(t, f.reg, "eventwatch_otlp_spans_exported_total", map[string]string{}); n != 3 {
				t.Errorf("spans exported = %v, want 3", n)
			}
		})
	}
}

// checkResource checks the schema URLs, telemetry.sdk.* and want.
func checkResource(t *testing.T, s otlptest.Span, want map[string]string) {
	t.Helper()
	if s.SchemaURL != semconv.SchemaURL || s.ScopeSchema != semconv.SchemaURL {
		t.Errorf("%s: schema URLs %q (resource) and %q (scope), want %s", s.Name, s.SchemaURL, s.ScopeSchema, semconv.SchemaURL)
	}
	want["telemetry.sdk.name"], want["telemetry.sdk.language"], want["telemetry.sdk.version"] = "opentelemetry", "go", sdk.Version()
	for k, v := range want {
		if s.Resource[k] != v {
			t.Errorf("%s: resource %s = %q, want %q", s.Name, k, s.Resource[k], v)
		}
	}
}

// TestExportSynthesizesOnlyForUntracedProducers: a chain whose first two
// producers did not trace gets a synthesized PRODUCER span for each (under
// the producer's service.name, marked eventwatch.synthesized, linked
// upstream, in the correlation-derived trace); the traced third gets
// eventwatch's observation only: no PRODUCER span repeats its send.
func TestExportSynthesizesOnlyForUntracedProducers(t *testing.T) {
	rcv := otlptest.Start(t)
	evs := []ev{
		{topic: "a", offset: 1, id: "c1", service: "svc-a", correlation: "corr-links", at: 0, key: "k1"},
		{topic: "b", offset: 2, id: "c2", service: "svc-b", correlation: "corr-links", at: time.Second},
		{topic: "c", offset: 3, id: "c3", service: "svc-c", correlation: "corr-links", traceparent: tp(traceB, spanA3), at: 2 * time.Second},
	}
	runExport(t, otlpConfig(ProtocolGRPC, rcv.GRPCAddr), evs)
	spans := rcv.Spans()
	if len(spans) != 3 {
		t.Fatalf("received %d spans, want 3: %+v", len(spans), spans)
	}
	got := bySpanName(spans)
	derived := CorrelationTraceID("corr-links").String()
	c1, c2, c3 := got["c1"], got["c2"], got["c3"]
	for _, s := range []otlptest.Span{c1, c2} {
		if s.TraceID != derived || s.ParentSpanID != "" || s.Kind != tracepb.Span_SPAN_KIND_PRODUCER ||
			s.Attributes["eventwatch.synthesized"] != "true" || s.Name != "send "+s.Attributes["messaging.destination.name"] {
			t.Errorf("untraced record's span %+v, want a synthesized PRODUCER root of trace %s", s, derived)
		}
		checkResource(t, s, map[string]string{"service.name": map[string]string{"c1": "svc-a", "c2": "svc-b"}[s.Attributes["messaging.message.id"]]})
	}
	if c1.Attributes["messaging.kafka.message.key"] != "k1" {
		t.Errorf("c1 key attribute = %q", c1.Attributes["messaging.kafka.message.key"])
	}
	if len(c2.Links) != 1 || c2.Links[0].SpanID != c1.SpanID || c2.Links[0].TraceID != derived {
		t.Errorf("c2 links = %+v, want the upstream span %s", c2.Links, c1.SpanID)
	}
	if c3.Kind != tracepb.Span_SPAN_KIND_CLIENT || c3.Service != "eventwatch" || c3.ParentSpanID != "" ||
		len(c3.Links) != 1 || c3.Links[0].TraceID != traceB || c3.Links[0].SpanID != spanA3 {
		t.Errorf("c3 = %+v, want eventwatch's CLIENT span linked to the producer's %s", c3, spanA3)
	}
	for _, s := range spans {
		if s.Kind == tracepb.Span_SPAN_KIND_PRODUCER && s.Attributes["messaging.message.id"] == "c3" {
			t.Errorf("a PRODUCER span duplicates the traced producer's send: %+v", s)
		}
	}
}

// TestExportTracedModes: an unsampled producer span is never a parent (it
// was not exported: the child would be an orphan), so the observation is a
// root of the same trace linked to it; link puts it in a trace of its own;
// none exports nothing for traced records; sample_ratio 0 exports nothing.
func TestExportTracedModes(t *testing.T) {
	unsampled := ev{topic: "a", offset: 1, id: "u1", service: "svc", correlation: "c", traceparent: "00-" + traceA + "-" + spanA1 + "-00"}
	sampled := ev{topic: "a", offset: 2, id: "s1", service: "svc", correlation: "c2", traceparent: tp(traceB, spanA2)}
	for _, tc := range []struct {
		mode string
		want func(u, s otlptest.Span) bool
		n    int
	}{
		{TracedChild, func(u, s otlptest.Span) bool {
			return u.TraceID == traceA && u.ParentSpanID == "" && len(u.Links) == 1 && u.Links[0].SpanID == spanA1 &&
				s.TraceID == traceB && s.ParentSpanID == spanA2 && len(s.Links) == 0
		}, 2},
		{TracedLink, func(u, s otlptest.Span) bool {
			return u.TraceID != traceA && u.ParentSpanID == "" && len(u.Links) == 1 && u.Links[0].SpanID == spanA1 &&
				s.TraceID != traceB && s.ParentSpanID == "" && len(s.Links) == 1 && s.Links[0].TraceID == traceB
		}, 2},
		{TracedNone, nil, 0},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			rcv := otlptest.Start(t)
			cfg := otlpConfig(ProtocolGRPC, rcv.GRPCAddr)
			cfg.OTLP.Traced = tc.mode
			runExport(t, cfg, []ev{unsampled, sampled})
			spans := rcv.Spans()
			if len(spans) != tc.n {
				t.Fatalf("%d spans, want %d: %+v", len(spans), tc.n, spans)
			}
			if tc.want != nil {
				got := bySpanName(spans)
				if !tc.want(got["u1"], got["s1"]) {
					t.Errorf("spans %+v", spans)
				}
			}
		})
	}
	rcv0 := otlptest.Start(t)
	cfg := otlpConfig(ProtocolGRPC, rcv0.GRPCAddr)
	zero := 0.0
	cfg.OTLP.SampleRatio = &zero
	runExport(t, cfg, threeHop("c0"))
	if spans := rcv0.Spans(); len(spans) != 0 {
		t.Fatalf("sample_ratio 0 exported %d spans", len(spans))
	}
}

func TestExportFromEnvironment(t *testing.T) {
	rcv := otlptest.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimSuffix(rcv.HTTPURL, "/v1/traces"))
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=eventwatch")
	runExport(t, Config{Window: time.Hour, OTLP: OTLPConfig{Enabled: true}}, threeHop("env"))
	if spans := rcv.Spans(); len(spans) != 3 {
		t.Fatalf("spans via OTEL_EXPORTER_OTLP_* = %d, want 3", len(spans))
	}
}

func TestExportErrorsAndFullQueueAreCounted(t *testing.T) {
	// A port nothing listens on: the export fails within the timeout and the
	// spans are counted as dropped, the stitcher carries on.
	cfg := otlpConfig(ProtocolHTTP, "http://127.0.0.1:1/v1/traces")
	cfg.OTLP.Timeout = 200 * time.Millisecond
	f := runExport(t, cfg, threeHop("down"))
	if n := counter(t, f.reg, "eventwatch_otlp_spans_dropped_total", map[string]string{"reason": spanDropExportError}); n != 3 {
		t.Errorf("export_error drops = %v, want 3", n)
	}
	if r := f.s.Flows(); r.ClosedChains != 1 {
		t.Errorf("stitching stopped with the exporter down: %+v", r)
	}

	// No export loop drains the queue: one span fits, the others are dropped.
	reg := prometheus.NewRegistry()
	ocfg := OTLPConfig{Enabled: true, Endpoint: "127.0.0.1:1", QueueSize: 1, BatchSize: 1}
	ocfg.SetDefaults()
	x, err := newExporter(ocfg, newMetricSet(reg), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newExporter: %v", err)
	}
	for _, e := range threeHop("full") {
		rec, res := e.record()
		ne := newEvent(rec, res)
		ne.Service = res.Source
		x.export(ne, ne.Ctx.TraceID, nil)
	}
	if n := counter(t, reg, "eventwatch_otlp_spans_dropped_total", map[string]string{"reason": spanDropQueueFull}); n != 2 {
		t.Errorf("queue_full drops = %v, want 2", n)
	}
}

func TestProviderLRUIsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	ocfg := OTLPConfig{Enabled: true, Endpoint: "127.0.0.1:1", Providers: 2}
	ocfg.SetDefaults()
	x, err := newExporter(ocfg, newMetricSet(reg), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newExporter: %v", err)
	}
	a := x.providers.get("a")
	x.providers.get("b")
	if x.providers.get("a") != a {
		t.Fatal("provider of a recreated while cached")
	}
	x.providers.get("c") // evicts b, the least recently used
	if x.providers.order.Len() != 2 || x.providers.byKey["b"] != nil || x.providers.byKey["a"] == nil {
		t.Errorf("LRU holds %v", x.providers.byKey)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
