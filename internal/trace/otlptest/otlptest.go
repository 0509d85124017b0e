// Package otlptest is a real, in-process OTLP trace receiver for tests: the
// collector's gRPC TraceService and the OTLP/HTTP /v1/traces endpoint
// (protobuf, optionally gzip) on 127.0.0.1, both closed on test cleanup.
// Received spans are flattened into Span values that tests assert on.
package otlptest

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, flattened with its resource's service.name.
type Span struct {
	Service      string            // resource attribute service.name
	Resource     map[string]string // every resource attribute as text
	SchemaURL    string            // of the resource
	Scope        string            // instrumentation scope name
	ScopeVersion string            // instrumentation scope version
	ScopeSchema  string            // schema URL of the scope's spans
	Name         string            // span name
	Kind         tracepb.Span_SpanKind
	TraceID      string // 32 hex digits
	SpanID       string // 16 hex digits
	ParentSpanID string // 16 hex digits; empty for a root span
	Start, End   time.Time
	Attributes   map[string]string // every attribute value as text
	Links        []Link
}

// Link is one span link.
type Link struct {
	TraceID string
	SpanID  string
}

// Receiver collects spans sent over gRPC or HTTP.
type Receiver struct {
	coltracepb.UnimplementedTraceServiceServer
	GRPCAddr string // host:port of the gRPC TraceService
	HTTPURL  string // http://host:port/v1/traces

	mu      sync.Mutex
	spans   []Span
	changed chan struct{} // closed and replaced on every export
}

// Start runs a receiver until the test ends.
func Start(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{changed: make(chan struct{})}
	var lc net.ListenConfig
	gl, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for OTLP gRPC: %v", err)
	}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, r)
	go func() { _ = gs.Serve(gl) }()
	r.GRPCAddr = gl.Addr().String()

	hl, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for OTLP HTTP: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.serveHTTP)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(hl) }()
	r.HTTPURL = "http://" + hl.Addr().String() + "/v1/traces"

	t.Cleanup(func() {
		gs.Stop()
		_ = hs.Close()
	})
	return r
}

// Export implements the collector's TraceService.
func (r *Receiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.add(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := readBody(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var msg coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &msg); err != nil {
		http.Error(w, fmt.Sprintf("decode OTLP request: %v", err), http.StatusBadRequest)
		return
	}
	r.add(&msg)
	out, err := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func readBody(req *http.Request) ([]byte, error) {
	var rd io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, fmt.Errorf("open gzip body: %w", err)
		}
		defer zr.Close()
		rd = zr
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		return nil, errors.New("only application/x-protobuf is supported, got " + ct)
	}
	return io.ReadAll(rd)
}

func (r *Receiver) add(req *coltracepb.ExportTraceServiceRequest) {
	var got []Span
	for _, rs := range req.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := flatten(res["service.name"], ss.GetScope().GetName(), s)
				sp.Resource, sp.SchemaURL = res, rs.GetSchemaUrl()
				sp.ScopeVersion, sp.ScopeSchema = ss.GetScope().GetVersion(), ss.GetSchemaUrl()
				got = append(got, sp)
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func flatten(svc, scope string, s *tracepb.Span) Span {
	out := Span{Service: svc, Scope: scope, Name: s.GetName(), Kind: s.GetKind(),
		TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
		ParentSpanID: hex.EncodeToString(s.GetParentSpanId()),
		Start:        time.Unix(0, int64(s.GetStartTimeUnixNano())).UTC(),
		End:          time.Unix(0, int64(s.GetEndTimeUnixNano())).UTC(),
		Attributes:   attrs(s.GetAttributes())}
	for _, l := range s.GetLinks() {
		out.Links = append(out.Links, Link{TraceID: hex.EncodeToString(l.GetTraceId()), SpanID: hex.EncodeToString(l.GetSpanId())})
	}
	return out
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = valueText(kv.GetValue())
	}
	return m
}

func valueText(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	default:
		return v.String()
	}
}

// Spans returns a copy of every span received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Wait returns the received spans once cond holds for them, or an error when
// ctx ends first.
func (r *Receiver) Wait(ctx context.Context, cond func([]Span) bool) ([]Span, error) {
	for {
		r.mu.Lock()
		spans := append([]Span(nil), r.spans...)
		changed := r.changed
		r.mu.Unlock()
		if cond(spans) {
			return spans, nil
		}
		select {
		case <-ctx.Done():
			return spans, fmt.Errorf("wait for spans (have %d): %w", len(spans), ctx.Err())
		case <-changed:
		}
	}
}
