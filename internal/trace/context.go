package trace

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// Origin says where an event's trace context came from.
type Origin string

// Origins, in order of precedence.
const (
	OriginTraceparent Origin = "traceparent" // W3C traceparent record header
	OriginEnvelope    Origin = "envelope"    // envelope trace context (meta.trace_context)
	OriginCorrelation Origin = "correlation" // derived from the correlation id; no service traced the event
	OriginNone        Origin = "none"        // neither trace context nor correlation id
)

// Prefixes of the hashed inputs for derived trace ids; fixed so that every
// eventwatch replica derives the same id.
const (
	correlationPrefix = "eventwatch/correlation/"
	envelopePrefix    = "eventwatch/envelope-trace/"
)

// Context is an event's resolved trace context.
type Context struct {
	TraceID oteltrace.TraceID // effective trace id; zero only when Origin is OriginNone
	SpanID  oteltrace.SpanID  // the publishing span (the event's parent); zero when unknown
	Sampled bool              // the publisher's sampled flag (traceparent only)
	Origin  Origin            // where TraceID came from
	Derived bool              // TraceID was hashed from a non-W3C id, not read as one
}

// Real reports whether the context came from a service's tracing (header or
// envelope) rather than from the correlation id.
func (c Context) Real() bool {
	return c.Origin == OriginTraceparent || c.Origin == OriginEnvelope
}

// HasParent reports whether the context names the publishing span, so that a
// span for the event can be its child.
func (c Context) HasParent() bool {
	return c.Real() && c.SpanID.IsValid()
}

// Resolve picks an event's trace context: a valid W3C traceparent header
// first, then the envelope's trace id and span id, then a trace id derived
// from the correlation id. An invalid traceparent is ignored (the envelope or
// correlation id is used instead).
//
// The traceparent header is the one the audit engine parsed
// (res.Traceparent); it is not parsed again here.
func Resolve(res *event.Result) Context {
	if tp := res.Traceparent; tp.Valid {
		return Context{TraceID: tp.TraceID, SpanID: tp.SpanID, Sampled: tp.Sampled(), Origin: OriginTraceparent}
	}
	if res.TraceID != "" { // the envelope's (the engine fills it from the header only when that is valid)
		return envelopeContext(res.TraceID, res.SpanID)
	}
	if res.CorrelationID != "" {
		return Context{TraceID: CorrelationTraceID(res.CorrelationID), Origin: OriginCorrelation, Derived: true}
	}
	return Context{Origin: OriginNone}
}

// envelopeContext reads an envelope trace id that is W3C hex (32 digits, or a
// UUID with dashes); any other non-empty string is hashed into a trace id so
// that equal ids still make one trace. The span id counts only as 16 hex digits.
func envelopeContext(traceID, spanID string) Context {
	c := Context{Origin: OriginEnvelope}
	if id, ok := parseHexTraceID(strings.ReplaceAll(strings.ToLower(traceID), "-", "")); ok && id.IsValid() {
		c.TraceID = id
	} else {
		c.TraceID = hashTraceID(envelopePrefix, traceID)
		c.Derived = true
	}
	if sid, ok := parseHexSpanID(strings.ToLower(spanID)); ok && sid.IsValid() {
		c.SpanID = sid
	}
	return c
}

// CorrelationTraceID derives the trace id of a chain that has only a
// correlation id: the first 16 bytes of SHA-256 over a fixed prefix and the id.
func CorrelationTraceID(correlationID string) oteltrace.TraceID {
	return hashTraceID(correlationPrefix, correlationID)
}

func hashTraceID(prefix, id string) oteltrace.TraceID {
	sum := sha256.Sum256([]byte(prefix + id))
	var t oteltrace.TraceID
	copy(t[:], sum[:16])
	return t
}

// Traceparent is a parsed W3C traceparent header.
type Traceparent struct {
	Version byte              // format version; 0 today
	TraceID oteltrace.TraceID // trace id, never all zeros
	SpanID  oteltrace.SpanID  // parent (publishing) span id, never all zeros
	Sampled bool              // trace-flags bit 0
}

// ErrTraceparentInvalid is returned by ParseTraceparent for a value that is
// not valid W3C Trace Context.
var ErrTraceparentInvalid = errors.New("traceparent is not valid W3C trace context (version-traceid-spanid-flags, lowercase hex, no all-zero id)")

// ParseTraceparent parses a W3C Trace Context traceparent value with the
// audit engine's parser (event.ParseTraceparent: the one parser of the
// header; records reach the stitcher with it parsed, see Resolve).
func ParseTraceparent(s string) (Traceparent, error) {
	tp := event.ParseTraceparent([]byte(s))
	if !tp.Valid {
		return Traceparent{}, ErrTraceparentInvalid
	}
	return Traceparent{Version: tp.Version, TraceID: tp.TraceID, SpanID: tp.SpanID, Sampled: tp.Sampled()}, nil
}

// String formats t as a version-00 traceparent value.
func (t Traceparent) String() string {
	flags := "00"
	if t.Sampled {
		flags = "01"
	}
	return fmt.Sprintf("00-%s-%s-%s", t.TraceID, t.SpanID, flags)
}

func parseHexTraceID(s string) (oteltrace.TraceID, bool) {
	var t oteltrace.TraceID
	if len(s) != 32 || !isLowerHex(s) {
		return t, false
	}
	_, err := hex.Decode(t[:], []byte(s))
	return t, err == nil
}

func parseHexSpanID(s string) (oteltrace.SpanID, bool) {
	var t oteltrace.SpanID
	if len(s) != 16 || !isLowerHex(s) {
		return t, false
	}
	_, err := hex.Decode(t[:], []byte(s))
	return t, err == nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
