package trace

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// Routing defaults.
const (
	DefaultRoutingTopic          = "__eventwatch_hops"
	DefaultRoutingGroup          = "eventwatch-trace"
	DefaultRoutingPartitions     = 16
	DefaultRoutingSessionTimeout = 10 * time.Second
	MinRoutingRetention          = time.Hour // the retention when replay is short
)

// RoutingConfig is `trace.routing`: the internal topic through which every
// replica sends its hop observations to the replica that owns their chain.
type RoutingConfig struct {
	Enabled           *bool         `yaml:"enabled"`            // route observations through Kafka (default true); false stitches locally, right only with one replica
	Topic             string        `yaml:"topic"`              // observation topic, created when missing
	Partitions        int           `yaml:"partitions"`         // its partitions when created: the most replicas that share the stitching
	Group             string        `yaml:"group"`              // consumer group of the replicas that stitch
	SessionTimeout    time.Duration `yaml:"session_timeout"`    // how long a dead replica keeps its partitions before they move
	Replay            time.Duration `yaml:"replay"`             // how far back a new owner of a partition re-reads it to rebuild open chains; 0: 3 × trace.window
	Retention         time.Duration `yaml:"retention"`          // retention.ms of the topic when created; 0: twice the replay horizon, at least 1h
	ReplicationFactor int           `yaml:"replication_factor"` // of the topic when created; -1 uses the broker default
}

// On reports whether observations are routed through Kafka.
func (c RoutingConfig) On() bool { return c.Enabled == nil || *c.Enabled }

// SetDefaults fills every zero field but Replay (0 means 3 × trace.window).
func (c *RoutingConfig) SetDefaults() {
	if c.Topic == "" {
		c.Topic = DefaultRoutingTopic
	}
	if c.Group == "" {
		c.Group = DefaultRoutingGroup
	}
	setInt(&c.Partitions, DefaultRoutingPartitions)
	setDur(&c.SessionTimeout, DefaultRoutingSessionTimeout)
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = -1
	}
}

// retention is the effective retention of the topic.
func (c *RoutingConfig) retention(window time.Duration) time.Duration {
	if c.Retention == 0 {
		return max(2*c.replay(window), MinRoutingRetention)
	}
	return c.Retention
}

// replay is the effective replay horizon for trace.window.
func (c *RoutingConfig) replay(window time.Duration) time.Duration {
	if c.Replay == 0 {
		return 3 * window
	}
	return c.Replay
}

func (c *RoutingConfig) validate(window time.Duration) []error {
	var errs []error
	if strings.TrimSpace(c.Topic) == "" {
		errs = append(errs, errors.New("trace.routing.topic: required"))
	}
	if strings.TrimSpace(c.Group) == "" {
		errs = append(errs, errors.New("trace.routing.group: required"))
	}
	if c.Partitions <= 0 || c.Partitions > 10000 {
		errs = append(errs, fmt.Errorf("trace.routing.partitions: must be 1..10000, got %d", c.Partitions))
	}
	if c.SessionTimeout < 6*time.Second || c.SessionTimeout > 30*time.Minute {
		errs = append(errs, fmt.Errorf("trace.routing.session_timeout: must be between 6s and 30m (the broker's group.min/max.session.timeout.ms defaults), got %s", c.SessionTimeout))
	}
	if c.Replay != 0 && c.Replay < window {
		errs = append(errs, fmt.Errorf("trace.routing.replay: must be 0 (3 × trace.window) or at least trace.window (%s), got %s", window, c.Replay))
	}
	if r := c.replay(window); c.Retention != 0 && c.Retention < r {
		errs = append(errs, fmt.Errorf("trace.routing.retention: must be at least the replay horizon (%s), got %s", r, c.Retention))
	}
	if c.ReplicationFactor == 0 || c.ReplicationFactor < -1 || c.ReplicationFactor > 32767 {
		errs = append(errs, fmt.Errorf("trace.routing.replication_factor: must be -1 (broker default) or 1..32767, got %d", c.ReplicationFactor))
	}
	return errs
}

// Chain keys: every event has up to two, its correlation id and its real
// trace id. Keys order correlation keys first, so that a chain's smallest
// key — the one whose partition owns the chain — is a correlation id when
// it has one.
const (
	corrKeyPrefix  = "c:"
	traceKeyPrefix = "t:"
)

func corrKey(id string) string               { return corrKeyPrefix + id }
func traceKey(id oteltrace.TraceID) string   { return traceKeyPrefix + id.String() }
func eventKeys(e *seenEvent) (keys []string) { return appendEventKeys(nil, e) }
func partitionOf(key string, n int32) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int32(h.Sum32() % uint32(n))
}
func keyIsTrace(key string) bool { return strings.HasPrefix(key, traceKeyPrefix) }
func keyTrace(key string) (oteltrace.TraceID, bool) {
	return parseHexTraceID(strings.TrimPrefix(key, traceKeyPrefix))
}

func appendEventKeys(keys []string, e *seenEvent) []string {
	if e.Correlation != "" {
		keys = append(keys, corrKey(e.Correlation))
	}
	if e.Ctx.Real() {
		keys = append(keys, traceKey(e.Ctx.TraceID))
	}
	return keys
}

// chainKeys are the keys of every event in c.
func chainKeys(c *chain) []string {
	keys := make([]string, 0, len(c.correlations)+len(c.traces))
	for _, id := range c.correlations {
		keys = append(keys, corrKey(id))
	}
	for _, id := range c.traces {
		keys = append(keys, traceKey(id))
	}
	return keys
}

// minKey is the smallest of keys (correlation keys sort first).
func minKey(keys []string) string {
	m := keys[0]
	for _, k := range keys[1:] {
		if k < m {
			m = k
		}
	}
	return m
}

// Message types on the routing topic.
const (
	msgObserve = "o" // an observed event, for the chain of key K
	msgLink    = "l" // key K belongs with key To (To < K): send its chain and events there
	msgClosed  = "c" // the chain whose first message in this partition is at offset First was closed and counted
	msgSpans   = "s" // spans of trace Trace, for the chain of key K
)

// wireMsg is one record of the routing topic (JSON): never a payload.
type wireMsg struct {
	Type  string     `json:"y"`
	Key   string     `json:"k"`
	To    string     `json:"to,omitempty"`
	First int64      `json:"f,omitempty"`
	Event *wireEvent `json:"e,omitempty"`
	Trace string     `json:"t,omitempty"`  // msgSpans: their trace id
	Spans []wireSpan `json:"sp,omitempty"` // msgSpans: the spans
}

// wireSpan is a span as routed: ids, kind and links (trace:span), hex.
type wireSpan struct {
	Span   string   `json:"s"`
	Parent string   `json:"p,omitempty"`
	Kind   int      `json:"k,omitempty"`
	Links  []string `json:"l,omitempty"`
	Topic  string   `json:"rt,omitempty"` // the consumed record, when known
	Part   int32    `json:"rp,omitempty"`
	Offset int64    `json:"ro,omitempty"`
}

func toWireSpans(spans []spanRec) []wireSpan {
	out := make([]wireSpan, len(spans))
	for i, sp := range spans {
		out[i] = wireSpan{Span: sp.Span.String(), Kind: sp.Kind}
		if sp.Consumed.known() {
			out[i].Topic, out[i].Part, out[i].Offset = sp.Consumed.Topic, sp.Consumed.Partition, sp.Consumed.Offset
		}
		if sp.Parent.IsValid() {
			out[i].Parent = sp.Parent.String()
		}
		for _, l := range sp.Links {
			out[i].Links = append(out[i].Links, l.Trace.String()+":"+l.Span.String())
		}
	}
	return out
}

func fromWireSpans(ws []wireSpan) []spanRec {
	out := make([]spanRec, 0, len(ws))
	for _, w := range ws {
		rec := spanRec{Kind: w.Kind, Consumed: recordRef{Topic: w.Topic, Partition: w.Part, Offset: w.Offset}}
		if w.Topic == "" {
			rec.Consumed.Offset = -1
		}
		var ok bool
		if rec.Span, ok = parseHexSpanID(w.Span); !ok {
			continue
		}
		rec.Parent, _ = parseHexSpanID(w.Parent)
		for _, l := range w.Links {
			t, sp, _ := strings.Cut(l, ":")
			tid, ok1 := parseHexTraceID(t)
			sid, ok2 := parseHexSpanID(sp)
			if ok1 && ok2 {
				rec.Links = append(rec.Links, spanRef{Trace: tid, Span: sid})
			}
		}
		out = append(out, rec)
	}
	return out
}

// wireEvent is an event as routed: the references and envelope fields the
// stitcher keeps, the resolved trace context, and the span already
// exported for it (so that a chain that moves is not exported twice).
type wireEvent struct {
	Topic       string    `json:"tp"`
	Partition   int32     `json:"p"`
	Offset      int64     `json:"o"`
	Key         string    `json:"mk,omitempty"`
	EventID     string    `json:"id,omitempty"`
	EventType   string    `json:"ty,omitempty"`
	Service     string    `json:"s,omitempty"`
	Correlation string    `json:"c,omitempty"`
	TraceID     string    `json:"ti,omitempty"`
	SpanID      string    `json:"si,omitempty"`
	Sampled     bool      `json:"sm,omitempty"`
	Origin      Origin    `json:"or"`
	Derived     bool      `json:"dv,omitempty"`
	EventTime   time.Time `json:"et,omitzero"`
	RecordTime  time.Time `json:"rt,omitzero"`
	Observed    time.Time `json:"ob,omitzero"`
	Size        int       `json:"sz,omitempty"`
	Leader      string    `json:"ld,omitempty"`
	Exported    bool      `json:"x,omitempty"`
	SpanTrace   string    `json:"xt,omitempty"`
	Span        string    `json:"xs,omitempty"`
	DeadLetter  bool      `json:"dl,omitempty"`
}

func toWire(e *seenEvent) *wireEvent {
	w := &wireEvent{Topic: e.Topic, Partition: e.Partition, Offset: e.Offset, Key: e.Key, EventID: e.EventID,
		EventType: e.EventType, Service: e.Service, Correlation: e.Correlation, Sampled: e.Ctx.Sampled,
		Origin: e.Ctx.Origin, Derived: e.Ctx.Derived, EventTime: e.EventTime, RecordTime: e.RecordTime,
		Observed: e.Observed, Size: e.Size, Leader: e.Leader, Exported: e.exported, DeadLetter: e.DeadLetter}
	if e.Ctx.TraceID.IsValid() {
		w.TraceID = e.Ctx.TraceID.String()
	}
	if e.Ctx.SpanID.IsValid() {
		w.SpanID = e.Ctx.SpanID.String()
	}
	if e.span.IsValid() {
		w.SpanTrace, w.Span = e.spanTrace.String(), e.span.String()
	}
	return w
}

func fromWire(w *wireEvent) *seenEvent {
	e := &seenEvent{Topic: w.Topic, Partition: w.Partition, Offset: w.Offset, Key: w.Key, EventID: w.EventID,
		EventType: w.EventType, Service: w.Service, Correlation: w.Correlation,
		Ctx:       Context{Sampled: w.Sampled, Origin: w.Origin, Derived: w.Derived},
		EventTime: w.EventTime, RecordTime: w.RecordTime, Observed: w.Observed, Size: w.Size, Leader: w.Leader, exported: w.Exported,
		DeadLetter: w.DeadLetter}
	e.Ctx.TraceID, _ = parseHexTraceID(w.TraceID)
	e.Ctx.SpanID, _ = parseHexSpanID(w.SpanID)
	e.spanTrace, _ = parseHexTraceID(w.SpanTrace)
	e.span, _ = parseHexSpanID(w.Span)
	if e.Ctx.Origin == "" {
		e.Ctx.Origin = OriginNone
	}
	return e
}
