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
	attrSynthesized = attribute.Key("eventwatch.synthesized")       // true on a PRODUCER span eventwatch made for a producer that did not trace
	attrOrigin      = attribute.Key("eventwatch.context.origin")    // traceparent, envelope or correlation
	attrEventType   = attribute.Key("eventwatch.event.type")        // the envelope's event type
	attrTimeInLog   = attribute.Key("eventwatch.kafka.time_in_log") // seconds from the record's timestamp to eventwatch reading it
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

// observe emits eventwatch's observation of a record its producer traced:
// a CLIENT span "poll {topic}" (messaging.operation.type receive,
// semantic conventions 1.37: a receive operation is a CLIENT span; "poll"
// is the Kafka operation name). eventwatch only reads the record — it
// processes nothing — so the span is no process span, and it is linked to
// the message's creation context (the producer's send span) rather than
// parented by it (trace.otlp.traced link, the default; child makes it a
// child when the producer sampled its span; none exports nothing). The
// span lasts no time: it marks when eventwatch read the record; how long
// the record waited in the log is the attribute
// eventwatch.kafka.time_in_log (seconds), not a duration that would pose as
// an operation.
func (x *exporter) observe(e *seenEvent) {
	if x.cfg.Traced == TracedNone || x.full() {
		return
	}
	producer := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: e.Ctx.TraceID, SpanID: e.Ctx.SpanID,
		TraceFlags: flags(e.Ctx.Sampled), Remote: true})
	sampled := e.Ctx.Sampled || e.Ctx.Origin == OriginEnvelope // an envelope span id carries no flags: it was recorded
	read := e.Observed
	if read.IsZero() || read.Before(e.RecordTime) {
		read = e.RecordTime
	}
	attrs := append(x.attributes(e, false), attrTimeInLog.Float64(read.Sub(e.RecordTime).Seconds()))
	opts := []oteltrace.SpanStartOption{
		oteltrace.WithSpanKind(oteltrace.SpanKindClient),
		oteltrace.WithTimestamp(read),
		oteltrace.WithAttributes(attrs...),
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
	_, span := x.tracer(x.self).Start(ctx, "poll "+e.Topic, opts...)
	span.End(oteltrace.WithTimestamp(read))
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
		attrs = append(attrs, semconv.MessagingOperationTypeReceive, semconv.MessagingOperationName("poll"))
		if x.cfg.ConsumerGroup != "" {
			attrs = append(attrs, semconv.MessagingConsumerGroupName(x.cfg.ConsumerGroup))
		}
		if x.cfg.ClientID != "" {
			attrs = append(attrs, semconv.MessagingClientID(x.cfg.ClientID))
		}
	}
	if host, port, ok := x.server(e); ok {
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

// server is the broker the record was fetched from (its partition's
// leader) as server.address and server.port; the first bootstrap broker
// when that is not known.
func (x *exporter) server(e *seenEvent) (string, int, bool) {
	addr := e.Leader
	if addr == "" && len(x.cfg.Brokers) > 0 {
		addr = x.cfg.Brokers[0]
	}
	if addr == "" {
		return "", 0, false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0, true
	}
	p, _ := strconv.Atoi(port)
	return host, p, true
}
