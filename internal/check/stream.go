package check

import (
	"github.com/eventwatch/eventwatch/internal/audit"

	"sort"

	"github.com/eventwatch/eventwatch/internal/event"

	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Summary totals one Run run.
type Summary struct {
	Events           int            `json:"events"`             // records audited (non-blank lines)
	Compliant        int            `json:"compliant"`          // records without error-severity violations
	Tombstones       int            `json:"tombstones"`         // records whose value was null (not audited)
	ViolationsByRule map[string]int `json:"violations_by_rule"` // violation count per rule id
}

// Failed reports whether any record broke an error-severity rule.
func (s Summary) Failed() bool { return s.Compliant < s.Events }

// lineResult is the JSON object Run writes per input line.
type lineResult struct {
	Line       int               `json:"line"`
	Topic      *string           `json:"topic"`
	Partition  *int32            `json:"partition"`
	Offset     *int64            `json:"offset"`
	EventID    string            `json:"event_id"`
	EventType  string            `json:"event_type"`
	SchemaID   int32             `json:"schema_id,omitempty"` // Confluent Schema Registry schema id of a framed value
	Tombstone  bool              `json:"tombstone,omitempty"`
	Violations []event.Violation `json:"violations"`
}

// Run audits NDJSON from in and writes the report to out in format
// "json" (one object per line, then {"summary":...}) or "text" (grouped by
// rule with counts). Each line is a bare event value or a kcat -J style
// object {"topic","partition","offset","key","headers","timestamp","value"
// (or "payload")}; a line that is not valid JSON is audited as a value, so
// it becomes an envelope.invalid_json violation, never an error. Lines may
// be of any length. The error is an I/O failure or ctx cancellation.
func Run(ctx context.Context, e *audit.Engine, in io.Reader, out io.Writer, format string) (Summary, error) {
	var w reportWriter
	switch format {
	case "json":
		w = &jsonReport{enc: json.NewEncoder(out)}
	case "text":
		w = newTextReport(out, e.Profile().Name)
	default:
		return Summary{}, fmt.Errorf("check stream: unknown format %q (want text or json)", format)
	}
	sum := Summary{ViolationsByRule: map[string]int{}}
	r := bufio.NewReaderSize(in, 64<<10)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return sum, fmt.Errorf("check stream: %w", err)
		}
		line, err := r.ReadBytes('\n')
		if len(trimLine(line)) > 0 {
			if werr := checkLine(e, n, trimLine(line), &sum, w); werr != nil {
				return sum, fmt.Errorf("write report: %w", werr)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("read input: %w", err)
		}
	}
	if err := w.finish(sum); err != nil {
		return sum, fmt.Errorf("write report: %w", err)
	}
	return sum, nil
}

func trimLine(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func checkLine(e *audit.Engine, n int, line []byte, sum *Summary, w reportWriter) error {
	rec, wrapped := ParseInputLine(line)
	res := e.Check(&rec)
	sum.Events++
	if res.Compliant() {
		sum.Compliant++
	}
	if res.Tombstone {
		sum.Tombstones++
	}
	for _, v := range res.Violations {
		sum.ViolationsByRule[v.Rule]++
	}
	lr := lineResult{Line: n, EventID: res.EventID, EventType: res.EventType, SchemaID: res.SchemaID, Tombstone: res.Tombstone, Violations: res.Violations}
	if wrapped {
		topic, part, off := rec.Topic, rec.Partition, rec.Offset
		lr.Topic, lr.Partition, lr.Offset = &topic, &part, &off
	}
	if lr.Violations == nil {
		lr.Violations = []event.Violation{}
	}
	return w.line(&lr)
}

// kcatLine is the kcat -J record shape (and eventwatch's own spelling).
type kcatLine struct {
	Topic     *string         `json:"topic"`
	Partition *int32          `json:"partition"`
	Offset    *int64          `json:"offset"`
	Key       json.RawMessage `json:"key"`
	Headers   json.RawMessage `json:"headers"`
	Timestamp json.RawMessage `json:"timestamp"`
	TS        json.RawMessage `json:"ts"`
	Value     json.RawMessage `json:"value"`
	Payload   json.RawMessage `json:"payload"`
}

// ParseInputLine turns one NDJSON line into a Record: a kcat -J style
// object (with "value" or "payload" and a "topic", "partition" or
// "offset") becomes that record, a JSON null value a tombstone, and any
// other line is a bare event value. It reports whether the line was a
// record wrapper.
func ParseInputLine(line []byte) (event.Record, bool) {
	var k kcatLine
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &k) != nil {
		return event.Record{Value: line}, false
	}
	value := k.Value
	if value == nil {
		value = k.Payload
	}
	if value == nil || (k.Topic == nil && k.Offset == nil && k.Partition == nil) {
		return event.Record{Value: line}, false
	}
	rec := event.Record{Value: rawToBytes(value), Key: rawToBytes(k.Key), Headers: parseHeaders(k.Headers)}
	if k.Topic != nil {
		rec.Topic = *k.Topic
	}
	if k.Partition != nil {
		rec.Partition = *k.Partition
	}
	if k.Offset != nil {
		rec.Offset = *k.Offset
	}
	rec.Timestamp = parseLineTime(k.Timestamp)
	if rec.Timestamp.IsZero() {
		rec.Timestamp = parseLineTime(k.TS)
	}
	return rec, true
}

// rawToBytes: null or absent is nil, a JSON string is its decoded text,
// anything else its JSON text.
func rawToBytes(raw json.RawMessage) []byte {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return []byte(s)
		}
	}
	return append([]byte(nil), raw...)
}

// parseHeaders reads {"k":"v",...} or kcat's ["k","v",...]; malformed
// headers are ignored.
func parseHeaders(raw json.RawMessage) []event.Header {
	if len(raw) == 0 {
		return nil
	}
	var obj map[string]*string
	if json.Unmarshal(raw, &obj) == nil {
		keys := sortedKeys(obj)
		hs := make([]event.Header, 0, len(keys))
		for _, k := range keys {
			hs = append(hs, event.Header{Key: k, Value: strBytes(obj[k])})
		}
		return hs
	}
	var arr []*string
	if json.Unmarshal(raw, &arr) != nil {
		return nil
	}
	var hs []event.Header
	for i := 0; i+1 < len(arr); i += 2 {
		if arr[i] != nil {
			hs = append(hs, event.Header{Key: *arr[i], Value: strBytes(arr[i+1])})
		}
	}
	return hs
}

func strBytes(s *string) []byte {
	if s == nil {
		return nil
	}
	return []byte(*s)
}

// parseLineTime reads milliseconds since the epoch or an RFC 3339 string.
func parseLineTime(raw json.RawMessage) time.Time {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}
	}
	if ms, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return time.UnixMilli(ms).UTC()
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// reportWriter renders Run output.
type reportWriter interface {
	line(r *lineResult) error
	finish(s Summary) error
}

type jsonReport struct{ enc *json.Encoder }

// jsonViolation is a violation as `check --format json` prints it: the
// DESIGN contract's "path" beside the "field" the API has always carried.
type jsonViolation struct {
	event.Violation
	Path string `json:"path"` // JSON path of the offending field; "" when the record as a whole
}

// jsonLine is lineResult with contract violations.
type jsonLine struct {
	*lineResult
	Violations []jsonViolation `json:"violations"`
}

func (j *jsonReport) line(r *lineResult) error {
	vs := make([]jsonViolation, len(r.Violations))
	for i, v := range r.Violations {
		vs[i] = jsonViolation{Violation: v, Path: v.Field}
	}
	return j.enc.Encode(jsonLine{lineResult: r, Violations: vs})
}

func (j *jsonReport) finish(s Summary) error {
	return j.enc.Encode(map[string]Summary{"summary": s})
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
