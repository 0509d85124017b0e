package event

import (
	"fmt"
	"strings"
	"time"
)

// Header is one Kafka record header.
type Header struct {
	Key   string // header key, e.g. "traceparent"
	Value []byte // raw header value
}

// Record is one Kafka record as the audit engine sees it. A nil Value is a
// tombstone.
type Record struct {
	Topic     string    // topic the record was read from
	Partition int32     // partition the record was read from
	Offset    int64     // offset within the partition
	Key       []byte    // record key; nil when the producer set none
	Value     []byte    // record value; nil for a tombstone
	Headers   []Header  // record headers in wire order
	Timestamp time.Time // record timestamp (producer or log-append time)
}

// Header returns the value of the last header named key, and whether any
// header had that name.
func (r *Record) Header(key string) ([]byte, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// Severity is how bad a violation is.
type Severity string

// Severities a rule can carry. A profile may change a rule's severity or turn
// it off.
const (
	SeverityError   Severity = "error"   // breaks a MUST of the standard
	SeverityWarning Severity = "warning" // breaks a SHOULD, or a likely problem
)

// Violation is one broken rule on one record.
type Violation struct {
	Rule     string   `json:"rule"`            // stable rule id, e.g. "envelope.missing_field"
	Severity Severity `json:"severity"`        // error or warning
	Message  string   `json:"message"`         // human text naming the field and the problem
	Field    string   `json:"field,omitempty"` // JSON path of the offending field, when there is one
}

// Result is what the engine learned from one record: the envelope fields it
// could read (empty when absent) and the rules the record breaks.
type Result struct {
	EventID       string      // envelope event id
	EventType     string      // envelope event type
	Version       string      // version from the type name or a version field
	Source        string      // source (producing) service
	CorrelationID string      // correlation id, when present
	TraceID       string      // envelope trace id (meta.trace_context.trace_id), when present
	SpanID        string      // envelope span id, when present
	Traceparent   Traceparent // the record's W3C traceparent header, parsed once by the engine; Valid false when absent or invalid
	EventTime     time.Time   // envelope timestamp; zero when absent or invalid
	Size          int         // serialized value size in bytes
	Profile       string      // name of the profile (or policy) the record was audited with
	SchemaID      int32       // Confluent Schema Registry schema id when the value was framed (magic byte 0, 4-byte id); 0 otherwise
	Tombstone     bool        // the value was nil (a delete marker on a compacted topic); no rule ran
	DeadLetter    bool        // a dead-letter copy of an event: on a dead-letter topic, or with HasDeadLetterHeaders; its identity fields are its original's
	Violations    []Violation // broken rules, in rule-id order
	IDCheck       IDCheck     // what duplicate.event_id needs to judge the record beyond this process
}

// IDCheck is what duplicate.event_id knows of one record, so a sink with a
// shared store (internal/ledger) can judge it against copies read before a
// restart or by another replica. The engine's in-process window judges it
// first (Flagged); the ledger remembers every id it did not flag and finds
// the rest when it stores them. The zero value means the rule did not apply
// (disabled on the topic, waived, or no event id).
type IDCheck struct {
	Hash     uint64    // 64-bit hash of the event id bytes as written, seeded with the profile's name; 0 when the rule did not apply
	Loc      uint64    // hash of where the record was read (topic, partition, offset); 0 without a topic
	At       time.Time // the record time the duplicate window is kept on (the Kafka timestamp, else the audit time)
	Severity Severity  // the rule's severity on the record's topic
	Field    string    // JSON path of the event id
	Flagged  bool      // the in-process window already reported the record (Violations holds the duplicate)
}

// Header prefixes of the error context dead-letter producers write beside
// an original they copy as is.
const (
	SpringDLTHeaderPrefix    = "kafka_dlt-"        // Spring Kafka DeadLetterPublishingRecoverer (and retry topics)
	ConnectErrorHeaderPrefix = "__connect.errors." // Kafka Connect errors.deadletterqueue.context.headers.enable
)

// HasDeadLetterHeaders reports whether rec carries the error context
// Spring Kafka (kafka_dlt-*) or Kafka Connect (__connect.errors.*) write
// on a dead-letter copy: the record is a copy of an original event, not a
// new event, whatever its topic is called.
func HasDeadLetterHeaders(rec *Record) bool {
	for _, h := range rec.Headers {
		if strings.HasPrefix(h.Key, SpringDLTHeaderPrefix) || strings.HasPrefix(h.Key, ConnectErrorHeaderPrefix) {
			return true
		}
	}
	return false
}

// Compliant reports whether the record breaks no error-severity rule.
func (r *Result) Compliant() bool {
	for _, v := range r.Violations {
		if v.Severity == SeverityError {
			return false
		}
	}
	return true
}

// Sink receives every audited record with its result. The sampler fans
// results out to sinks (metrics, trace stitching, report aggregation).
// Observe must not retain rec or res beyond the call and must not block.
type Sink interface {
	Observe(rec *Record, res *Result)
}

// DuplicateMessage is the message of a duplicate.event_id violation: the
// engine's, and the ledger's for a duplicate it finds when it stores ids.
// Ids longer than 64 bytes are cut.
func DuplicateMessage(id, field string, window time.Duration) string {
	if len(id) > 64 {
		id = id[:61] + "..."
	}
	return fmt.Sprintf("event id %q in %s was seen before (within %s)", id, field, window)
}
