package audit

import (
	"fmt"
	"strings"
	"time"
)

// evalCtx is everything the rules of one Check see.
type evalCtx struct {
	e      *Engine
	rec    *Record
	res    *Result
	ts     *topicSettings
	s      *scanner
	now    time.Time
	valid  bool   // the value is a valid JSON object
	inner  []byte // the buffer the envelope fields index (the value, or a DLQ's original event)
	tsErr  string // why the timestamp did not parse, when it did not
	hasTS  bool   // a timestamp string was present
	verdct *typeVerdict
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
	if sev == "" {
		return
	}
	for _, w := range c.ts.waivers[i] {
		if w.Active(c.now) {
			return
		}
	}
	c.res.Violations = append(c.res.Violations, Violation{Rule: c.ts.ids[i], Severity: sev, Message: msg, Field: field})
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
	root := e.p.root
	if c.ts.dlq {
		root = e.dlqRoot
	}
	s.reset(c.rec.Value, &e.p.blob, e.blobMin)
	if c.ts.sev[rBlobField] == "" || c.ts.dlq {
		s.blob = nil
	}
	c.valid = s.document(root)
	c.inner = c.rec.Value
	if c.valid && c.ts.dlq {
		c.scanOriginal()
	}
	if c.valid {
		c.fill()
	}
}

// scanOriginal re-scans the original event a dead-letter record wraps so the
// Result carries the original's identity.
func (c *evalCtx) scanOriginal() {
	s := c.s
	o := s.fields[roleDLQOriginal]
	wrapper := s.fields
	var inner []byte
	switch o.kind {
	case kindObject:
		inner = c.rec.Value[o.start:o.end]
	case kindString:
		inner = appendUnescaped(nil, c.rec.Value[o.start:o.end])
	default:
		return
	}
	s.reset(inner, nil, 0)
	if s.document(c.e.p.root) {
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

// fill copies the envelope fields into the Result.
func (c *evalCtx) fill() {
	r := c.res
	r.EventID = c.str(roleID)
	r.EventType = c.str(roleType)
	r.Source = c.str(roleSource)
	r.CorrelationID = c.str(roleCorrelation)
	r.TraceID = c.str(roleTraceID)
	r.SpanID = c.str(roleSpanID)
	r.Version = c.versionString()
	if r.EventType != "" {
		c.verdct = c.e.typeVerdictFor(r.EventType)
		if r.Version == "" {
			r.Version = c.verdct.typeVersion
		}
	}
	if r.TraceID == "" {
		if tp, ok := c.rec.Header("traceparent"); ok {
			if tid, sid, ok := parseTraceparent(tp); ok {
				r.TraceID, r.SpanID = tid, sid
			}
		}
	}
	c.fillTime()
}

func (c *evalCtx) versionString() string {
	sp := c.s.fields[roleVersion]
	switch sp.kind {
	case kindString:
		return c.str(roleVersion)
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
	t, problem := parseUTC(c.str(roleTimestamp))
	if problem != "" {
		c.tsErr = problem
		return
	}
	c.res.EventTime = t
}

// parseUTC parses an RFC 3339 timestamp that must be in UTC ("Z" or
// "+00:00"), returning a problem description when it is not.
func parseUTC(s string) (time.Time, string) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if _, err2 := time.Parse("2006-01-02T15:04:05.999999999", s); err2 == nil {
			return time.Time{}, "has no UTC offset (naive local time)"
		}
		return time.Time{}, "is not an RFC 3339 timestamp"
	}
	if _, off := t.Zone(); off != 0 || strings.HasSuffix(s, "-00:00") {
		return time.Time{}, "is not in UTC"
	}
	return t.UTC(), ""
}

// refTime is the reference time for far-future/far-past checks: the record
// timestamp when there is one, else now.
func (c *evalCtx) refTime() time.Time {
	if !c.rec.Timestamp.IsZero() {
		return c.rec.Timestamp
	}
	return c.now
}
