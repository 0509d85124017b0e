package trace

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/eventwatch/eventwatch/internal/audit"
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
func Resolve(rec *audit.Record, res *audit.Result) Context {
	if v, ok := rec.Header("traceparent"); ok {
		if tp, err := ParseTraceparent(string(v)); err == nil {
			return Context{TraceID: tp.TraceID, SpanID: tp.SpanID, Sampled: tp.Sampled, Origin: OriginTraceparent}
		}
	}
	if res.TraceID != "" {
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

// Errors returned by ParseTraceparent.
var (
	ErrTraceparentFormat = errors.New("traceparent is not version-traceid-spanid-flags")
	ErrTraceparentZero   = errors.New("traceparent has an all-zero trace id or span id")
)

// ParseTraceparent parses a W3C Trace Context traceparent value
// (https://www.w3.org/TR/trace-context/#traceparent-header): lowercase hex
// only, version ff invalid, version 00 exactly 55 characters, later versions
// may append fields after a dash.
func ParseTraceparent(s string) (Traceparent, error) {
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return Traceparent{}, ErrTraceparentFormat
	}
	ver, ok := parseHexByte(s[0:2])
	if !ok || ver == 0xff || (ver == 0 && len(s) != 55) || (len(s) > 55 && s[55] != '-') {
		return Traceparent{}, ErrTraceparentFormat
	}
	tid, ok1 := parseHexTraceID(s[3:35])
	sid, ok2 := parseHexSpanID(s[36:52])
	flags, ok3 := parseHexByte(s[53:55])
	if !ok1 || !ok2 || !ok3 {
		return Traceparent{}, ErrTraceparentFormat
	}
	if !tid.IsValid() || !sid.IsValid() {
		return Traceparent{}, ErrTraceparentZero
	}
	return Traceparent{Version: ver, TraceID: tid, SpanID: sid, Sampled: flags&1 == 1}, nil
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

func parseHexByte(s string) (byte, bool) {
	if len(s) != 2 || !isLowerHex(s) {
		return 0, false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return 0, false
	}
	return b[0], true
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
