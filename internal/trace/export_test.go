package trace

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/eventwatch/eventwatch/internal/trace/otlptest"
)

// runExport feeds evs through a running stitcher that exports to cfg and
// returns once Run has flushed on shutdown.
func runExport(t *testing.T, cfg Config, evs []ev) *fixture {
	t.Helper()
	f := newFixture(t, cfg)
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

func TestExportJoinsServiceTraces(t *testing.T) {
	for _, protocol := range []string{ProtocolGRPC, ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			rcv := otlptest.Start(t)
			endpoint := rcv.GRPCAddr
			if protocol == ProtocolHTTP {
				endpoint = rcv.HTTPURL
			}
			flow := threeHop("corr-otlp")
			f := runExport(t, otlpConfig(protocol, endpoint), flow)
			spans := rcv.Spans()
			if len(spans) != 3 {
				t.Fatalf("received %d spans, want 3: %+v", len(spans), spans)
			}
			got := bySpanName(spans)
			parents := map[string]string{"e1": spanA1, "e2": spanA2, "e3": spanA3}
			for _, e := range flow {
				s, ok := got[e.id]
				if !ok {
					t.Fatalf("no span for event %s", e.id)
				}
				rec, res := e.record()
				if s.TraceID != traceA || s.ParentSpanID != parents[e.id] || s.Service != e.service {
					t.Errorf("%s: trace %s parent %s service %s", e.id, s.TraceID, s.ParentSpanID, s.Service)
				}
				if s.Name != "send "+e.topic || s.Kind != tracepb.Span_SPAN_KIND_PRODUCER {
					t.Errorf("%s: name %q kind %v", e.id, s.Name, s.Kind)
				}
				if !s.Start.Equal(res.EventTime) || !s.End.Equal(rec.Timestamp) {
					t.Errorf("%s: start %v end %v, want %v and %v", e.id, s.Start, s.End, res.EventTime, rec.Timestamp)
				}
				want := map[string]string{
					"messaging.system": "kafka", "messaging.destination.name": e.topic,
					"messaging.destination.partition.id": "0", "messaging.kafka.offset": itoa(e.offset),
					"messaging.message.conversation_id": "corr-otlp", "messaging.operation.type": "send",
				}
				for k, v := range want {
					if s.Attributes[k] != v {
						t.Errorf("%s: attribute %s = %q, want %q", e.id, k, s.Attributes[k], v)
					}
				}
				if len(s.Links) != 0 {
					t.Errorf("%s: links %+v on a span whose parent is known", e.id, s.Links)
				}
			}
			if n := counter(t, f.reg, "eventwatch_otlp_spans_exported_total", map[string]string{}); n != 3 {
				t.Errorf("spans exported = %v, want 3", n)
			}
		})
	}
}

func TestExportCorrelationOnlyChainIsOneLinkedTrace(t *testing.T) {
	rcv := otlptest.Start(t)
	evs := []ev{
		{topic: "a", offset: 1, id: "c1", service: "svc-a", correlation: "corr-links", at: 0},
		{topic: "b", offset: 2, id: "c2", service: "svc-b", correlation: "corr-links", at: time.Second},
		// A traced service downstream: its span keeps its own parent, and links
		// back to the untraced upstream span in the other trace.
		{topic: "c", offset: 3, id: "c3", service: "svc-c", correlation: "corr-links", traceparent: tp(traceB, spanA3), at: 2 * time.Second},
	}
	runExport(t, otlpConfig(ProtocolGRPC, rcv.GRPCAddr), evs)
	got := bySpanName(rcv.Spans())
	derived := CorrelationTraceID("corr-links").String()
	c1, c2, c3 := got["c1"], got["c2"], got["c3"]
	if c1.TraceID != derived || c2.TraceID != derived || c1.ParentSpanID != "" || c2.ParentSpanID != "" {
		t.Fatalf("untraced spans: %+v %+v, want roots of trace %s", c1, c2, derived)
	}
	if len(c2.Links) != 1 || c2.Links[0].SpanID != c1.SpanID || c2.Links[0].TraceID != derived {
		t.Errorf("c2 links = %+v, want the upstream span %s", c2.Links, c1.SpanID)
	}
	if c3.TraceID != traceB || c3.ParentSpanID != spanA3 || len(c3.Links) != 1 || c3.Links[0].SpanID != c2.SpanID {
		t.Errorf("c3 = %+v, want parent %s and a link to %s", c3, spanA3, c2.SpanID)
	}
}

func TestExportIgnoresUnsampledParentAndHonoursRatio(t *testing.T) {
	rcv := otlptest.Start(t)
	unsampled := ev{topic: "a", offset: 1, id: "u1", service: "svc", correlation: "c",
		traceparent: "00-" + traceA + "-" + spanA1 + "-00"}
	runExport(t, otlpConfig(ProtocolGRPC, rcv.GRPCAddr), []ev{unsampled})
	if spans := rcv.Spans(); len(spans) != 1 || spans[0].ParentSpanID != spanA1 {
		t.Fatalf("span with an unsampled parent not exported: %+v", spans)
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
