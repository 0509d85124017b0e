package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// evalCtx is everything the rules of one Check see.
type evalCtx struct {
	e      *Engine
	rec    *event.Record
	res    *event.Result
	ts     *topicSettings
	s      *scanner
	now    time.Time // Options.Now(), read lazily (see clock)
	valid  bool      // the value is a valid JSON object
	inner  []byte    // the buffer the envelope fields index (the value, or a DLQ's original event)
	tsErr  string    // why the timestamp did not parse, when it did not
	hasTS  bool      // a timestamp string was present
	verdct *typeVerdict
	memo   *internMemo // the pooled state's memo (nil in contexts built by hand)
}

// class says which rules see this record (onEnvelope, onInvalid, onDLQ).
func (c *evalCtx) class() uint8 {
	switch {
	case !c.valid:
		return onInvalid
	case c.ts.dlq:
		return onDLQ
	}
	return onEnvelope
}

// on reports whether rule i is enabled on this record's topic.
func (c *evalCtx) on(i int) bool { return c.ts.sev[i] != "" }

// report records a violation of rule i unless an active waiver covers it.
func (c *evalCtx) report(i int, field, msg string) {
	sev := c.ts.sev[i]
	if sev == "" || c.waived(i) {
		return
	}
	c.res.Violations = append(c.res.Violations, event.Violation{Rule: c.ts.ids[i], Severity: sev, Message: msg, Field: field})
}

// waived reports whether an active waiver covers rule i on this record.
func (c *evalCtx) waived(i int) bool {
	for _, w := range c.ts.waivers[i] {
		if w.Active(c.clock()) {
			return true
		}
	}
	return false
}

// reportf is report with a formatted message.
func (c *evalCtx) reportf(i int, field, format string, args ...any) {
	if c.on(i) {
		c.report(i, field, fmt.Sprintf(format, args...))
	}
}

// scan validates the value and extracts the envelope (or, on a dead-letter
// topic, the wrapper and the wrapped original's envelope), then fills the
// Result fields.
func (c *evalCtx) scan() {
	e, s := c.e, c.s
	root := e.root
	if c.ts.dlq {
		root = e.dlqRoot
	}
	val := c.rec.Value
	if id, ok := confluentFrame(val); ok {
		val, c.res.SchemaID = val[confluentHeader:], id
	}
	s.reset(val, &e.blob, e.blobMin)
	if c.ts.sev[rBlobField] == "" || c.ts.dlq {
		s.blob = nil
	}
	s.shapeOn = c.ts.sev[rDrift] != ""
	c.valid = s.document(root)
	c.inner = val
	if c.valid && c.ts.dlq {
		c.scanOriginal()
	}
	if c.valid {
		c.fill()
	}
	if c.ts.dlq && c.res.Source == "" {
		c.res.Source = c.e.dlqService(c.rec.Topic)
	}
}

// scanOriginal re-scans the original event a dead-letter record wraps so the
// Result carries the original's identity. A record that wraps nothing (the
// Spring Kafka / Kafka Connect way: the original value as is, the error in
// headers) is its own original: its own envelope is scanned instead.
func (c *evalCtx) scanOriginal() {
	s := c.s
	o := s.fields[roleDLQOriginal]
	wrapper := s.fields
	inner := c.inner
	switch o.kind {
	case kindObject:
		inner = c.inner[o.start:o.end]
	case kindString:
		inner = appendUnescaped(nil, c.inner[o.start:o.end])
	}
	s.reset(inner, nil, 0)
	if s.document(c.e.root) {
		c.inner = inner
	} else {
		s.fields = [numScanRoles]span{}
	}
	s.fields[roleDLQOriginal], s.fields[roleDLQError] = wrapper[roleDLQOriginal], wrapper[roleDLQError]
	s.err = ""
}

// str returns the decoded string of role r, or "" when it is not a string.
func (c *evalCtx) str(r int) string {
	sp := c.s.fields[r]
	if sp.kind != kindString {
		return ""
	}
	raw := c.inner[sp.start:sp.end]
	if sp.escaped {
		return string(appendUnescaped(nil, raw))
	}
	return string(raw)
}

// raw returns the bytes of role r's value (string content without quotes).
func (c *evalCtx) raw(r int) []byte {
	sp := c.s.fields[r]
	if sp.kind == kindAbsent {
		return nil
	}
	return c.inner[sp.start:sp.end]
}

// fill copies the envelope fields into the Result. Repeated small values
// (type, source, version) are interned; the per-event ids share one
// allocation.
func (c *evalCtx) fill() {
	r := c.res
	r.EventType, c.verdct = c.typeOf()
	r.Source = c.interned(roleSource)
	c.fillIDs()
	r.Version = c.versionString()
	if c.verdct != nil && r.Version == "" {
		r.Version = c.verdct.typeVersion
	}
	if r.TraceID == "" && r.Traceparent.Valid {
		r.TraceID, r.SpanID = hex.EncodeToString(r.Traceparent.TraceID[:]), hex.EncodeToString(r.Traceparent.SpanID[:])
	}
	c.fillTime()
}

// typeOf returns the event type and its cached naming verdict.
func (c *evalCtx) typeOf() (string, *typeVerdict) {
	sp := c.s.fields[roleType]
	if sp.kind != kindString {
		return "", nil
	}
	if !sp.escaped {
		raw := c.inner[sp.start:sp.end]
		m := c.memo
		if m != nil && m.verdict != nil && string(m.typ) == string(raw) {
			return m.verdict.name, m.verdict
		}
		if v, ok := c.e.types.getBytes(raw); ok {
			if m != nil {
				m.typ, m.verdict = append(m.typ[:0], raw...), v
			}
			return v.name, v
		}
	}
	t := c.str(roleType)
	if t == "" {
		return "", nil
	}
	v := c.e.typeVerdictFor(t)
	return v.name, v
}

// interned returns role r's string through the engine's bounded intern
// table (no allocation for values seen before).
func (c *evalCtx) interned(r int) string {
	sp := c.s.fields[r]
	if sp.kind != kindString {
		return ""
	}
	raw := c.inner[sp.start:sp.end]
	if !sp.escaped {
		m := c.memo
		if m != nil && m.str[r] != "" && string(m.raw[r]) == string(raw) {
			return m.str[r]
		}
		if v, ok := c.e.strs.getBytes(raw); ok {
			if m != nil {
				m.raw[r], m.str[r] = append(m.raw[r][:0], raw...), v
			}
			return v
		}
	}
	v := c.str(r)
	c.e.strs.put(v, v)
	return v
}

// idRoles are the per-event strings copied with one allocation.
var idRoles = [...]int{roleID, roleCorrelation, roleTraceID, roleSpanID}

func (c *evalCtx) fillIDs() {
	var out [len(idRoles)]string
	n := 0
	for _, r := range idRoles {
		sp := c.s.fields[r]
		if sp.kind == kindString {
			n += int(sp.end - sp.start)
		}
	}
	var b strings.Builder
	b.Grow(n)
	var ends [len(idRoles)]int
	for i, r := range idRoles {
		sp := c.s.fields[r]
		if sp.kind == kindString {
			b.Write(appendUnescapedIfNeeded(c.s.scratch[:0], c.inner[sp.start:sp.end], sp.escaped))
		}
		ends[i] = b.Len()
	}
	all := b.String()
	start := 0
	for i := range idRoles {
		out[i] = all[start:ends[i]]
		start = ends[i]
	}
	r := c.res
	r.EventID, r.CorrelationID, r.TraceID, r.SpanID = out[0], out[1], out[2], out[3]
}

func appendUnescapedIfNeeded(dst, raw []byte, escaped bool) []byte {
	if !escaped {
		return raw
	}
	return appendUnescaped(dst, raw)
}

func (c *evalCtx) versionString() string {
	sp := c.s.fields[roleVersion]
	switch sp.kind {
	case kindString:
		return c.interned(roleVersion)
	case kindNumber:
		return string(c.inner[sp.start:sp.end])
	}
	return ""
}

func (c *evalCtx) fillTime() {
	if c.s.fields[roleTimestamp].kind != kindString {
		return
	}
	c.hasTS = true
	sp := c.s.fields[roleTimestamp]
	t, problem := parseUTC(appendUnescapedIfNeeded(c.s.scratch[:0], c.inner[sp.start:sp.end], sp.escaped))
	if problem != "" {
		c.tsErr = problem
		return
	}
	c.res.EventTime = t
}

// refTime is the reference time for far-future/far-past checks: the record
// timestamp when there is one, else now.
func (c *evalCtx) refTime() time.Time {
	if !c.rec.Timestamp.IsZero() {
		return c.rec.Timestamp
	}
	return c.clock()
}

// clock returns Options.Now(), calling it at most once per record.
func (c *evalCtx) clock() time.Time {
	if c.now.IsZero() {
		c.now = c.e.opts.Now()
	}
	return c.now
}
