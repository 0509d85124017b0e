package trace

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// scopeName is the instrumentation scope of the spans eventwatch exports.
const scopeName = "github.com/eventwatch/eventwatch/internal/trace"

// flushInterval bounds how long a span waits in a partial batch.
const flushInterval = time.Second

// Reasons a span is not exported (the reason label of eventwatch_otlp_spans_dropped_total).
const (
	spanDropQueueFull   = "queue_full"
	spanDropExportError = "export_error"
	spanDropShutdown    = "shutdown"
)

// exporter turns events into spans, one tracer provider (and so one
// service.name resource) per source service, and ships them to an OTLP
// endpoint from a bounded queue drained by one goroutine, so that a slow or
// absent collector costs dropped spans, never a blocked stitcher.
type exporter struct {
	cfg       OTLPConfig
	client    sdktrace.SpanExporter
	queue     chan sdktrace.ReadOnlySpan
	proc      *queueProcessor
	providers *providerLRU             // producers' resources, for synthesized spans
	self      *sdktrace.TracerProvider // eventwatch's own resource
	m         *metricSet
	log       *slog.Logger
	stop      chan struct{}
	done      chan struct{}
	stopOnce  sync.Once
}

// newExporter creates the OTLP client (which connects lazily) for cfg.
func newExporter(cfg OTLPConfig, m *metricSet, log *slog.Logger) (*exporter, error) {
	client, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	x := &exporter{cfg: cfg, client: client, queue: make(chan sdktrace.ReadOnlySpan, cfg.QueueSize),
		m: m, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	x.proc = &queueProcessor{x: x}
	x.providers = newProviderLRU(cfg.Providers, x.producerProvider)
	x.self = x.newProvider(x.selfResource())
	return x, nil
}

// newClient builds the gRPC or HTTP OTLP trace client; settings the config
// leaves empty are read by the client from OTEL_EXPORTER_OTLP_*.
func newClient(cfg OTLPConfig) (sdktrace.SpanExporter, error) {
	if cfg.Protocol == ProtocolHTTP {
		c, err := otlptracehttp.New(context.Background(), httpOptions(cfg)...)
		if err != nil {
			return nil, fmt.Errorf("create OTLP HTTP exporter: %w", err)
		}
		return c, nil
	}
	c, err := otlptracegrpc.New(context.Background(), grpcOptions(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("create OTLP gRPC exporter: %w", err)
	}
	return c, nil
}

func httpOptions(cfg OTLPConfig) []otlptracehttp.Option {
	opts := []otlptracehttp.Option{otlptracehttp.WithTimeout(cfg.Timeout)}
	switch {
	case strings.Contains(cfg.Endpoint, "://"):
		opts = append(opts, otlptracehttp.WithEndpointURL(cfg.Endpoint))
	case cfg.Endpoint != "":
		opts = append(opts, otlptracehttp.WithEndpoint(cfg.Endpoint))
	}
	if cfg.Insecure != nil && *cfg.Insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	return opts
}

func grpcOptions(cfg OTLPConfig) []otlptracegrpc.Option {
	opts := []otlptracegrpc.Option{otlptracegrpc.WithTimeout(cfg.Timeout)}
	switch {
	case strings.Contains(cfg.Endpoint, "://"):
		opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
	case cfg.Endpoint != "":
		opts = append(opts, otlptracegrpc.WithEndpoint(cfg.Endpoint))
	}
	if cfg.Insecure != nil && *cfg.Insecure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracegrpc.WithHeaders(cfg.Headers))
	}
	return opts
}

// run batches queued spans and exports them until stop is closed, then
// drains what is queued and shuts the client down.
func (x *exporter) run() {
	defer close(x.done)
	batch := make([]sdktrace.ReadOnlySpan, 0, x.cfg.BatchSize)
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		select {
		case <-x.stop:
			x.drain(batch)
			return
		case s := <-x.queue:
			if batch = append(batch, s); len(batch) >= x.cfg.BatchSize {
				batch = x.send(batch)
			}
		case <-tick.C:
			batch = x.send(batch)
		}
	}
}

func (x *exporter) drain(batch []sdktrace.ReadOnlySpan) {
	for {
		select {
		case s := <-x.queue:
			if batch = append(batch, s); len(batch) >= x.cfg.BatchSize {
				batch = x.send(batch)
			}
		default:
			x.send(batch)
			x.providers.shutdown()
			_ = x.self.Shutdown(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), x.cfg.Timeout)
			defer cancel()
			if err := x.client.Shutdown(ctx); err != nil {
				x.log.Warn("shut down OTLP exporter", "err", err)
			}
			return
		}
	}
}

// send exports batch and returns it emptied for reuse.
func (x *exporter) send(batch []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(context.Background(), x.cfg.Timeout)
	defer cancel()
	if err := x.client.ExportSpans(ctx, batch); err != nil {
		x.m.spansDropped.WithLabelValues(spanDropExportError).Add(float64(len(batch)))
		x.log.Warn("export spans", "spans", len(batch), "err", err)
	} else {
		x.m.spansExported.WithLabelValues().Add(float64(len(batch)))
	}
	clear(batch)
	return batch[:0]
}

// shutdown stops the export loop after it flushed the queue; it returns when
// done or when ctx ends, whichever is first.
func (x *exporter) shutdown(ctx context.Context) {
	x.stopOnce.Do(func() { close(x.stop) })
	select {
	case <-x.done:
	case <-ctx.Done():
		x.m.spansDropped.WithLabelValues(spanDropShutdown).Add(float64(len(x.queue)))
	}
}

// queueProcessor hands ended, sampled spans to the exporter's queue without
// blocking; a full queue drops the span and counts it.
type queueProcessor struct{ x *exporter }

func (p *queueProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (p *queueProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	select {
	case p.x.queue <- s:
	default:
		p.x.m.spansDropped.WithLabelValues(spanDropQueueFull).Inc()
	}
}

// Shutdown is a no-op: the queue outlives any one provider.
func (p *queueProcessor) Shutdown(context.Context) error { return nil }

// ForceFlush is a no-op: the exporter loop flushes on its own schedule.
func (p *queueProcessor) ForceFlush(context.Context) error { return nil }

// traceIDKey carries the trace id a root span must use.
type traceIDKey struct{}

// chainIDs generates random span ids, and trace ids from the context (the
// chain's trace) when set, so that a span without a parent still joins its
// chain's trace.
type chainIDs struct{}

func (chainIDs) NewIDs(ctx context.Context) (oteltrace.TraceID, oteltrace.SpanID) {
	if t, ok := ctx.Value(traceIDKey{}).(oteltrace.TraceID); ok && t.IsValid() {
		return t, randomSpanID()
	}
	var t oteltrace.TraceID
	for !t.IsValid() {
		putUint64(t[:8], rand.Uint64())
		putUint64(t[8:], rand.Uint64())
	}
	return t, randomSpanID()
}

func (chainIDs) NewSpanID(context.Context, oteltrace.TraceID) oteltrace.SpanID { return randomSpanID() }

func randomSpanID() oteltrace.SpanID {
	var s oteltrace.SpanID
	for !s.IsValid() {
		putUint64(s[:], rand.Uint64())
	}
	return s
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

// providerLRU keeps at most max tracer providers, evicting the least
// recently used. Used from the stitcher's loop only.
type providerLRU struct {
	max   int
	build func(string) *sdktrace.TracerProvider
	byKey map[string]*list.Element
	order *list.List // of *providerEntry, most recent at the front
}

type providerEntry struct {
	service string
	tp      *sdktrace.TracerProvider
}

func newProviderLRU(limit int, mk func(string) *sdktrace.TracerProvider) *providerLRU {
	return &providerLRU{max: limit, build: mk, byKey: make(map[string]*list.Element), order: list.New()}
}

func (l *providerLRU) get(service string) *sdktrace.TracerProvider {
	if el, ok := l.byKey[service]; ok {
		l.order.MoveToFront(el)
		return el.Value.(*providerEntry).tp
	}
	if l.order.Len() >= l.max {
		old := l.order.Back()
		l.order.Remove(old)
		ent := old.Value.(*providerEntry)
		delete(l.byKey, ent.service)
		_ = ent.tp.Shutdown(context.Background()) // its processor is a no-op; nothing to flush
	}
	ent := &providerEntry{service: service, tp: l.build(service)}
	l.byKey[service] = l.order.PushFront(ent)
	return ent.tp
}

func (l *providerLRU) shutdown() {
	for el := l.order.Front(); el != nil; el = el.Next() {
		_ = el.Value.(*providerEntry).tp.Shutdown(context.Background())
	}
}
