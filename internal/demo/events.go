package demo

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// ids makes deterministic identifiers from a seeded generator.
type ids struct{ rng *rand.Rand }

func newIDs(seed int64, stream uint64) *ids {
	return &ids{rng: rand.New(rand.NewPCG(uint64(seed), stream))} //nolint:gosec // simulated traffic, not security
}

// uuid returns a random (version 4) UUID.
func (g *ids) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// hexID returns n random bytes as hex (trace ids: 16, span ids: 8).
func (g *ids) hexID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	return hex.EncodeToString(b)
}

// between returns a duration in [lo, hi).
func (g *ids) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)))
}

// traceparent is a W3C trace context header value.
func traceparent(traceID, spanID string) string {
	return "00-" + traceID + "-" + spanID + "-01"
}

// parseTraceparent returns the trace id of a traceparent value, or "".
func parseTraceparent(v string) string {
	if len(v) != 55 || v[2] != '-' {
		return ""
	}
	return v[3:35]
}

// hulEnvelope is the HuleEdu EventEnvelope (standard 000).
type hulEnvelope struct {
	EventID        string `json:"event_id"`
	EventType      string `json:"event_type"`
	EventTimestamp string `json:"event_timestamp"`
	SourceService  string `json:"source_service"`
	CorrelationID  string `json:"correlation_id"`
	Data           any    `json:"data"`
}

func hulEvent(g *ids, eventType, source, correlationID string, data any) hulEnvelope {
	return hulEnvelope{
		EventID:        g.uuid(),
		EventType:      eventType,
		EventTimestamp: time.Now().UTC().Format(time.RFC3339Nano),
		SourceService:  source,
		CorrelationID:  correlationID,
		Data:           data,
	}
}

// awMeta is the AuthorWorks meta block (standard 002).
type awMeta struct {
	ID            string     `json:"id"`
	Type          string     `json:"type"`
	Version       string     `json:"version"`
	Timestamp     string     `json:"timestamp"`
	CorrelationID string     `json:"correlation_id"`
	Source        string     `json:"source"`
	TraceContext  awTraceCtx `json:"trace_context"`
}

type awTraceCtx struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

type awEvent struct {
	Meta awMeta `json:"meta"`
	Data any    `json:"data"`
}

func awNew(g *ids, eventType, source string, data any) awEvent {
	return awEvent{Meta: awMeta{
		ID:            g.uuid(),
		Type:          eventType,
		Version:       "1.0",
		Timestamp:     time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		CorrelationID: g.uuid(),
		Source:        source,
		TraceContext:  awTraceCtx{TraceID: g.hexID(16), SpanID: g.hexID(8)},
	}, Data: data}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the demo's own fixed types are marshalled here.
		return []byte(fmt.Sprintf(`{"marshal_error":%q}`, err.Error()))
	}
	return b
}
