package trace

import (
	"context"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// Attributes eventwatch adds beyond the semantic conventions.
const (
	attrSynthesized = attribute.Key("eventwatch.synthesized")    // true on a PRODUCER span eventwatch made for a producer that did not trace
	attrOrigin      = attribute.Key("eventwatch.context.origin") // traceparent, envelope or correlation
	attrEventType   = attribute.Key("eventwatch.event.type")     // the envelope's event type
)

// sdkAttributes are the telemetry.sdk.* resource attributes.
func sdkAttributes() []attribute.KeyValue {
	return []attribute.KeyValue{semconv.TelemetrySDKName("opentelemetry"), semconv.TelemetrySDKLanguageGo, semconv.TelemetrySDKVersion(sdk.Version())}
}

// selfResource describes eventwatch itself.
func (x *exporter) selfResource() *resource.Resource {
	attrs := append(sdkAttributes(), semconv.ServiceName(x.cfg.ServiceName))
	if x.cfg.ServiceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(x.cfg.ServiceVersion))
	}
	if x.cfg.InstanceID != "" {
		attrs = append(attrs, semconv.ServiceInstanceID(x.cfg.InstanceID))
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...)
}

// producerProvider is the tracer provider of a producing service, for the
// spans eventwatch synthesizes on its behalf.
func (x *exporter) producerProvider(service string) *sdktrace.TracerProvider {
	return x.newProvider(resource.NewWithAttributes(semconv.SchemaURL, append(sdkAttributes(), semconv.ServiceName(service))...))
}

// newProvider is a tracer provider for res: the shared queue, a trace-id
// ratio sampler that ignores the parent's sampled flag (eventwatch decides
// for itself what to export) and an id generator that honours a chain's
// trace id for spans without a parent.
func (x *exporter) newProvider(res *resource.Resource) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(x.proc),
		sdktrace.WithSampler(sdktrace.TraceIDRatioBased(*x.cfg.SampleRatio)),
		sdktrace.WithIDGenerator(chainIDs{}),
	)
}

func (x *exporter) tracer(tp *sdktrace.TracerProvider) oteltrace.Tracer {
	return tp.Tracer(scopeName, oteltrace.WithInstrumentationVersion(x.cfg.ServiceVersion), oteltrace.WithSchemaURL(semconv.SchemaURL))
}

// export emits the span of e and returns the span a downstream event of
// its chain should link to (zero when none). A record its producer traced
// gets eventwatch's own observation (see observe), never a second producer
// span; any other record gets a synthesized producer span (see synthesize).
func (x *exporter) export(e *seenEvent, traceID oteltrace.TraceID, up *seenEvent) (oteltrace.TraceID, oteltrace.SpanID) {
	if e.Ctx.HasParent() {
		x.observe(e)
		return e.Ctx.TraceID, e.Ctx.SpanID // downstream spans link to the producer's own span
	}
	return x.synthesize(e, traceID, up)
}

// full reports (and counts) a span queue with no room: the collector is
// behind, so the stitcher is spared the span's cost.
func (x *exporter) full() bool {
	if len(x.queue) < cap(x.queue) {
		return false
	}
	x.m.spansDropped.WithLabelValues(spanDropQueueFull).Inc()
	return true
}

// observe emits eventwatch's CONSUMER span "receive {topic}" for a record
// its producer traced: with trace.otlp.traced child, a child of the
// producer's span when the producer sampled it (an unsampled parent is
// never exported, so the span is then a root of the same trace, linked to
// it); with link, a root of a trace of its own, linked; with none, nothing.
func (x *exporter) observe(e *seenEvent) {
	if x.cfg.Traced == TracedNone || x.full() {
		return
	}
	producer := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: e.Ctx.TraceID, SpanID: e.Ctx.SpanID,
		TraceFlags: flags(e.Ctx.Sampled), Remote: true})
	sampled := e.Ctx.Sampled || e.Ctx.Origin == OriginEnvelope // an envelope span id carries no flags: it was recorded
	opts := []oteltrace.SpanStartOption{
		oteltrace.WithSpanKind(oteltrace.SpanKindConsumer),
		oteltrace.WithTimestamp(e.RecordTime),
		oteltrace.WithAttributes(x.attributes(e, false)...),
	}
	ctx := context.Background()
	switch {
	case x.cfg.Traced == TracedChild && sampled:
		ctx = oteltrace.ContextWithRemoteSpanContext(ctx, producer)
	case x.cfg.Traced == TracedChild:
		ctx = context.WithValue(ctx, traceIDKey{}, e.Ctx.TraceID)
		opts = append(opts, oteltrace.WithLinks(oteltrace.Link{SpanContext: producer}))
	default:
		opts = append(opts, oteltrace.WithLinks(oteltrace.Link{SpanContext: producer}))
	}
	_, span := x.tracer(x.self).Start(ctx, "receive "+e.Topic, opts...)
	end := e.RecordTime
	if e.Observed.After(end) {
		end = e.Observed
	}
	span.End(oteltrace.WithTimestamp(end))
}

// synthesize emits the PRODUCER span "send {topic}" a producer that did not
// trace would have made, under its service.name, marked
// eventwatch.synthesized: a root of the chain's trace (traceID) linked to
// the upstream event's span. It returns the span, zero when not sampled.
func (x *exporter) synthesize(e *seenEvent, traceID oteltrace.TraceID, up *seenEvent) (oteltrace.TraceID, oteltrace.SpanID) {
	if x.full() {
		return oteltrace.TraceID{}, oteltrace.SpanID{}
	}
	opts := []oteltrace.SpanStartOption{
		oteltrace.WithSpanKind(oteltrace.SpanKindProducer),
		oteltrace.WithTimestamp(e.at()),
		oteltrace.WithAttributes(x.attributes(e, true)...),
	}
	if l, ok := upstreamLink(up); ok {
		opts = append(opts, oteltrace.WithLinks(l))
	}
	ctx := context.WithValue(context.Background(), traceIDKey{}, traceID)
	_, span := x.tracer(x.providers.get(e.Service)).Start(ctx, "send "+e.Topic, opts...)
	sc := span.SpanContext()
	span.End(oteltrace.WithTimestamp(endTime(e)))
	if !sc.IsSampled() {
		return oteltrace.TraceID{}, oteltrace.SpanID{}
	}
	return sc.TraceID(), sc.SpanID()
}

// upstreamLink links to the upstream event's span, when it has one.
func upstreamLink(up *seenEvent) (oteltrace.Link, bool) {
	if up == nil || !up.span.IsValid() {
		return oteltrace.Link{}, false
	}
	return oteltrace.Link{SpanContext: oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: up.spanTrace, SpanID: up.span, TraceFlags: oteltrace.FlagsSampled, Remote: true})}, true
}

func flags(sampled bool) oteltrace.TraceFlags {
	if sampled {
		return oteltrace.FlagsSampled
	}
	return 0
}

// endTime is the record time when it follows the event time (the span then
// covers the publish), else the start.
func endTime(e *seenEvent) time.Time {
	if e.RecordTime.After(e.at()) {
		return e.RecordTime
	}
	return e.at()
}

// attributes follow the OpenTelemetry messaging conventions for Kafka
// (semantic conventions 1.37.0): a send of a synthesized producer span, or
// eventwatch's receive.
func (x *exporter) attributes(e *seenEvent, synthesized bool) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		semconv.MessagingSystemKafka,
		semconv.MessagingDestinationName(e.Topic),
		semconv.MessagingDestinationPartitionID(strconv.Itoa(int(e.Partition))),
		semconv.MessagingKafkaOffset(int(e.Offset)),
		semconv.MessagingMessageBodySize(e.Size),
		attrOrigin.String(string(e.Ctx.Origin)),
	}
	if synthesized {
		attrs = append(attrs, semconv.MessagingOperationTypeSend, semconv.MessagingOperationName("send"), attrSynthesized.Bool(true))
	} else {
		attrs = append(attrs, semconv.MessagingOperationTypeReceive, semconv.MessagingOperationName("receive"))
		if x.cfg.ConsumerGroup != "" {
			attrs = append(attrs, semconv.MessagingConsumerGroupName(x.cfg.ConsumerGroup))
		}
	}
	if host, port, ok := x.server(); ok {
		attrs = append(attrs, semconv.ServerAddress(host), semconv.ServerPort(port))
	}
	if e.Key != "" {
		attrs = append(attrs, semconv.MessagingKafkaMessageKey(e.Key))
	}
	if e.EventID != "" {
		attrs = append(attrs, semconv.MessagingMessageID(e.EventID))
	}
	if e.Correlation != "" {
		attrs = append(attrs, semconv.MessagingMessageConversationID(e.Correlation))
	}
	if e.EventType != "" {
		attrs = append(attrs, attrEventType.String(e.EventType))
	}
	return attrs
}

// server is the first bootstrap broker as server.address and server.port.
func (x *exporter) server() (string, int, bool) {
	if len(x.cfg.Brokers) == 0 {
		return "", 0, false
	}
	host, port, err := net.SplitHostPort(x.cfg.Brokers[0])
	if err != nil {
		return x.cfg.Brokers[0], 0, x.cfg.Brokers[0] != ""
	}
	p, _ := strconv.Atoi(port)
	return host, p, true
}
