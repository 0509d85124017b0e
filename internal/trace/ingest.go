package trace

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	oteltrace "go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span ingestion defaults.
const (
	DefaultSpansTopic    = "otlp_spans"
	DefaultSpansGroup    = "eventwatch-spans"
	DefaultSpansMax      = 200000
	DefaultSpansPerTrace = 2000
	DefaultSpansQueue    = 1024
	EncodingOTLPProto    = "otlp_proto"
	maxOTLPBody          = 16 << 20 // bytes of one OTLP/HTTP request, decompressed
)

// Outcomes of eventwatch_trace_spans_total.
const (
	spanReceived   = "received"    // read and held for the join
	spanEdge       = "edge"        // a send span whose cause (or exact root) it told
	spanBadMessage = "bad_message" // a message or request that is not an ExportTraceServiceRequest
	spanDropped    = "dropped"     // beyond max_spans, max_trace_spans or the queue
	spanUnresolved = "unresolved"  // a send span of a record whose cause its spans did not tell
)

// SpansConfig is `trace.spans`: where eventwatch reads the OTLP spans the
// services export, for exact causation (see the package documentation).
type SpansConfig struct {
	Enabled       bool   `yaml:"enabled"`         // read spans from Topic (the OpenTelemetry Collector's Kafka exporter writes them there)
	Topic         string `yaml:"topic"`           // default otlp_spans
	Encoding      string `yaml:"encoding"`        // otlp_proto: each message one serialized ExportTraceServiceRequest (the collector's default)
	Group         string `yaml:"group"`           // eventwatch's own consumer group on Topic
	HTTP          bool   `yaml:"http"`            // also accept OTLP/HTTP (protobuf) at POST /v1/traces on eventwatch's HTTP address
	MaxSpans      int    `yaml:"max_spans"`       // spans held for the join, over every trace; more are dropped
	MaxTraceSpans int    `yaml:"max_trace_spans"` // spans held per trace
	QueueSize     int    `yaml:"queue_size"`      // span batches between the readers and the stitcher; more are dropped
	StartFrom     string `yaml:"start_from"`      // earliest or latest: where the group starts on Topic the first time (default latest)
}

// On reports whether spans are read at all (topic or HTTP).
func (c SpansConfig) On() bool { return c.Enabled || c.HTTP }

// SetDefaults fills every zero field.
func (c *SpansConfig) SetDefaults() {
	if c.Topic == "" {
		c.Topic = DefaultSpansTopic
	}
	if c.Encoding == "" {
		c.Encoding = EncodingOTLPProto
	}
	if c.Group == "" {
		c.Group = DefaultSpansGroup
	}
	if c.StartFrom == "" {
		c.StartFrom = "latest"
	}
	setInt(&c.MaxSpans, DefaultSpansMax)
	setInt(&c.MaxTraceSpans, DefaultSpansPerTrace)
	setInt(&c.QueueSize, DefaultSpansQueue)
}

func (c *SpansConfig) validate() []error {
	var errs []error
	if c.Encoding != EncodingOTLPProto {
		errs = append(errs, fmt.Errorf("trace.spans.encoding: %q is not otlp_proto", c.Encoding))
	}
	if c.StartFrom != "earliest" && c.StartFrom != "latest" {
		errs = append(errs, fmt.Errorf("trace.spans.start_from: %q is not earliest or latest", c.StartFrom))
	}
	if strings.TrimSpace(c.Topic) == "" || strings.TrimSpace(c.Group) == "" {
		errs = append(errs, errors.New("trace.spans.topic and trace.spans.group: required"))
	}
	errs = append(errs, positive("trace.spans.max_spans", c.MaxSpans), positive("trace.spans.max_trace_spans", c.MaxTraceSpans),
		positive("trace.spans.queue_size", c.QueueSize))
	return errs
}

// spanBatch is the spans of one trace from one export request.
type spanBatch struct {
	trace oteltrace.TraceID
	spans []spanRec
}

// decodeSpans reads an OTLP ExportTraceServiceRequest (protobuf) into
// per-trace batches of what the join needs. Spans with invalid ids are
// skipped.
func decodeSpans(b []byte) ([]spanBatch, error) {
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("decode ExportTraceServiceRequest: %w", err)
	}
	byTrace := map[oteltrace.TraceID]int{}
	var out []spanBatch
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				tid, rec, ok := spanOf(sp)
				if !ok {
					continue
				}
				i, seen := byTrace[tid]
				if !seen {
					i = len(out)
					byTrace[tid] = i
					out = append(out, spanBatch{trace: tid})
				}
				out[i].spans = append(out[i].spans, rec)
			}
		}
	}
	return out, nil
}

func spanOf(sp *tracepb.Span) (oteltrace.TraceID, spanRec, bool) {
	var tid oteltrace.TraceID
	var rec spanRec
	if len(sp.GetTraceId()) != 16 || len(sp.GetSpanId()) != 8 {
		return tid, rec, false
	}
	copy(tid[:], sp.GetTraceId())
	copy(rec.Span[:], sp.GetSpanId())
	if len(sp.GetParentSpanId()) == 8 {
		copy(rec.Parent[:], sp.GetParentSpanId())
	}
	rec.Kind = int(sp.GetKind())
	if rec.Kind == kindConsumer {
		rec.Consumed = consumedRecord(sp.GetAttributes())
	}
	for _, l := range sp.GetLinks() {
		if len(l.GetTraceId()) == 16 && len(l.GetSpanId()) == 8 && len(rec.Links) < 8 {
			var r spanRef
			copy(r.Trace[:], l.GetTraceId())
			copy(r.Span[:], l.GetSpanId())
			rec.Links = append(rec.Links, r)
		}
	}
	return tid, rec, tid.IsValid() && rec.Span.IsValid()
}

// ObserveSpans takes one serialized OTLP ExportTraceServiceRequest for the
// join. It never blocks: when the queue is full the spans are dropped and
// counted. Safe for concurrent use.
func (s *Stitcher) ObserveSpans(b []byte) error {
	batches, err := decodeSpans(b)
	if err != nil {
		s.m.spans.WithLabelValues(spanBadMessage).Inc()
		return err
	}
	for _, sb := range batches {
		select {
		case s.spansIn <- sb:
		default:
			s.m.spans.WithLabelValues(spanDropped).Add(float64(len(sb.spans)))
		}
	}
	return nil
}

// ServeOTLP is the OTLP/HTTP receiver for exact causation: POST /v1/traces
// with a protobuf ExportTraceServiceRequest (gzip allowed), answered with
// an empty ExportTraceServiceResponse; a body that does not decode gets
// 400. The daemon mounts it when trace.spans.http is on.
func (s *Stitcher) ServeOTLP(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/x-protobuf") {
		http.Error(w, "only application/x-protobuf is accepted", http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, maxOTLPBody)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, "bad gzip body: "+err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = io.LimitReader(zr, maxOTLPBody)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.ObserveSpans(b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// spanReader consumes trace.spans.topic in eventwatch's own group and hands
// every message to ObserveSpans.
type spanReader struct {
	cfg  SpansConfig
	wait time.Duration // fetch wait (fetchWait)
	base []kgo.Opt
	log  *slog.Logger
	s    *Stitcher
}

// run reads until ctx ends; a message that does not decode is counted
// (bad_message) and skipped.
func (r *spanReader) run(ctx context.Context) {
	reset := kgo.NewOffset().AtEnd()
	if r.cfg.StartFrom == "earliest" {
		reset = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(append(slices.Clone(r.base), kgo.ConsumerGroup(r.cfg.Group), kgo.ConsumeTopics(r.cfg.Topic),
		kgo.ConsumeResetOffset(reset), kgo.FetchMaxWait(r.wait))...)
	if err != nil {
		r.log.Error("create span reader", "err", err)
		return
	}
	defer cl.Close()
	r.log.Info("reading spans for exact causation", "topic", r.cfg.Topic, "group", r.cfg.Group)
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
				r.log.Warn("read spans", "topic", t, "partition", p, "err", err)
			}
		})
		fs.EachRecord(func(rec *kgo.Record) {
			if err := r.s.ObserveSpans(rec.Value); err != nil {
				r.log.Debug("skip span message", "partition", rec.Partition, "offset", rec.Offset, "err", err)
			}
		})
	}
}

// consumedRecord reads the record a process span names: topic
// (messaging.destination.name), partition (messaging.destination.partition.id)
// and offset (messaging.kafka.offset, or messaging.kafka.message.offset
// before semantic conventions 1.25), as strings or integers.
func consumedRecord(attrs []*commonpb.KeyValue) recordRef {
	r := recordRef{Offset: -1}
	part := int64(-1)
	for _, kv := range attrs {
		switch kv.GetKey() {
		case "messaging.destination.name":
			r.Topic = kv.GetValue().GetStringValue()
		case "messaging.destination.partition.id", "messaging.kafka.destination.partition":
			part = intValue(kv.GetValue())
		case "messaging.kafka.offset", "messaging.kafka.message.offset":
			r.Offset = intValue(kv.GetValue())
		}
	}
	if part < 0 || part > math.MaxInt32 || r.Offset < 0 || r.Topic == "" {
		return recordRef{Offset: -1}
	}
	r.Partition = int32(part)
	return r
}

// intValue reads an integer attribute given as an int or a decimal string; -1 otherwise.
func intValue(v *commonpb.AnyValue) int64 {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_StringValue:
		if n, err := strconv.ParseInt(x.StringValue, 10, 64); err == nil {
			return n
		}
	}
	return -1
}
