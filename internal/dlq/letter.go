package dlq

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
)

// Format is how a dead letter carries its original and its error.
type Format string

// Dead-letter formats Read recognises.
const (
	FormatWrapped Format = "wrapped" // a JSON wrapper: the original under original_event (or original, event, envelope) and the error beside it
	FormatSpring  Format = "spring"  // the original value as is, the error in kafka_dlt-* headers (Spring Kafka DeadLetterPublishingRecoverer)
	FormatConnect Format = "connect" // the original value as is, the error in __connect.errors.* headers (Kafka Connect errors.deadletterqueue.context.headers.enable)
	FormatAsIs    Format = "as-is"   // the original value as is with no error context eventwatch can read
)

// Owner sources: where a dead letter's owning service came from.
const (
	OwnerOriginal = "original" // the wrapped original's envelope
	OwnerEnvelope = "envelope" // the record's own envelope (an as-is original)
	OwnerTopic    = "topic"    // the dead-letter topic's name (service.deadletter)
	OwnerUnknown  = ""         // nothing named one
)

// Letter is what eventwatch knows about one dead-letter record: where it
// is, whose it is, where its original came from and why it failed. It
// never holds payload values: the error message is normalised (ids,
// numbers and quoted values stripped) before it is kept.
type Letter struct {
	Topic     string    `json:"topic"`     // dead-letter topic
	Partition int32     `json:"partition"` // partition of the dead letter
	Offset    int64     `json:"offset"`    // offset of the dead letter
	Time      time.Time `json:"time"`      // record timestamp of the dead letter
	Format    Format    `json:"format"`    // how the original and the error are carried

	Service   string `json:"service"`              // owning (producing) service of the original; "" when nothing names one
	OwnerFrom string `json:"owner_from,omitempty"` // where Service came from: original, envelope or topic
	EventID   string `json:"event_id,omitempty"`   // the original's event id
	EventType string `json:"event_type,omitempty"` // the original's event type

	OriginalTopic     string `json:"original_topic,omitempty"`  // topic the original was consumed from, when the letter says
	OriginalPartition int32  `json:"original_partition"`        // its partition; -1 when unknown
	OriginalOffset    int64  `json:"original_offset"`           // its offset; -1 when unknown
	ConsumerGroup     string `json:"consumer_group,omitempty"`  // the consumer group (or Connect connector's group) that failed
	ExceptionClass    string `json:"exception_class,omitempty"` // exception class (fully qualified where the letter says)
	Message           string `json:"message,omitempty"`         // the error message, normalised: first line, ids and values stripped
	ErrorClass        string `json:"error_class"`               // the triage key: class and normalised message ("(none)" when the letter has no error)
	HasOriginal       bool   `json:"has_original"`              // an original can be taken out of the letter (for replay)
}

// NoError is the ErrorClass of a dead letter without readable error context.
const NoError = "(none)"

// Read reads a dead letter: rec is the record, res the audit result of it
// (its Source, EventID and EventType are the original's, see
// audit.Engine). Read never fails: what it cannot find stays empty.
func Read(rec *event.Record, res *event.Result) Letter {
	l := Letter{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Time: rec.Timestamp,
		OriginalPartition: -1, OriginalOffset: -1}
	if res != nil {
		l.Service, l.EventID, l.EventType = res.Source, res.EventID, res.EventType
	}
	switch {
	case hasPrefix(rec, springPrefix):
		l.Format = FormatSpring
		readSpring(rec, &l)
	case hasPrefix(rec, connectPrefix):
		l.Format = FormatConnect
		readConnect(rec, &l)
	default:
		readValue(rec, &l)
	}
	l.Message = Normalise(l.Message)
	l.ErrorClass = errorClass(l.ExceptionClass, l.Message)
	l.OwnerFrom = ownerFrom(&l)
	return l
}

// ownerFrom says where l.Service came from, given its format: a wrapped
// original's envelope, the as-is record's own envelope, or (no envelope
// named one) the topic's name.
func ownerFrom(l *Letter) string {
	switch {
	case l.Service == "":
		return OwnerUnknown
	case l.EventID == "" && l.EventType == "":
		return OwnerTopic
	case l.Format == FormatWrapped:
		return OwnerOriginal
	}
	return OwnerEnvelope
}

func errorClass(class, msg string) string {
	switch {
	case class != "" && msg != "":
		return class + ": " + msg
	case class != "":
		return class
	case msg != "":
		return msg
	}
	return NoError
}

// Header prefixes of the two header-carried formats.
const (
	springPrefix  = "kafka_dlt-"
	connectPrefix = "__connect.errors."
)

func hasPrefix(rec *event.Record, prefix string) bool {
	for _, h := range rec.Headers {
		if strings.HasPrefix(h.Key, prefix) {
			return true
		}
	}
	return false
}

func header(rec *event.Record, key string) string {
	v, _ := rec.Header(key)
	return string(v)
}

// readSpring reads DeadLetterPublishingRecoverer's headers. The cause's
// class (kafka_dlt-exception-cause-fqcn) names the failure better than the
// ListenerExecutionFailedException around it.
func readSpring(rec *event.Record, l *Letter) {
	l.ExceptionClass = header(rec, "kafka_dlt-exception-cause-fqcn")
	if l.ExceptionClass == "" {
		l.ExceptionClass = header(rec, "kafka_dlt-exception-fqcn")
	}
	l.Message = header(rec, "kafka_dlt-exception-message")
	l.OriginalTopic = header(rec, "kafka_dlt-original-topic")
	l.ConsumerGroup = header(rec, "kafka_dlt-original-consumer-group")
	if v, ok := rec.Header("kafka_dlt-original-partition"); ok {
		l.OriginalPartition = int32(binaryInt(v))
	}
	if v, ok := rec.Header("kafka_dlt-original-offset"); ok {
		l.OriginalOffset = binaryInt(v)
	}
	l.HasOriginal = rec.Value != nil
}

// readConnect reads Kafka Connect's error-context headers (strings).
func readConnect(rec *event.Record, l *Letter) {
	l.ExceptionClass = header(rec, "__connect.errors.exception.class.name")
	l.Message = header(rec, "__connect.errors.exception.message")
	l.OriginalTopic = header(rec, "__connect.errors.topic")
	if c := header(rec, "__connect.errors.connector.name"); c != "" {
		l.ConsumerGroup = "connect-" + c // a sink connector's consumer group
	}
	if p, err := strconv.ParseInt(header(rec, "__connect.errors.partition"), 10, 32); err == nil {
		l.OriginalPartition = int32(p)
	}
	if o, err := strconv.ParseInt(header(rec, "__connect.errors.offset"), 10, 64); err == nil {
		l.OriginalOffset = o
	}
	l.HasOriginal = rec.Value != nil
}

// binaryInt reads a Spring header number: 4 or 8 bytes big-endian, or
// decimal text (older versions and other writers).
func binaryInt(v []byte) int64 {
	switch len(v) {
	case 4:
		return int64(int32(binary.BigEndian.Uint32(v)))
	case 8:
		return int64(binary.BigEndian.Uint64(v))
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Field names of a JSON wrapper, the union of both built-in profiles'
// rules.dlq and the common spellings of error context.
var (
	originalFields  = []string{"original_event", "original", "event", "envelope"}
	errorFields     = []string{"error", "error_context", "error_message", "exception"}
	messageFields   = []string{"message", "error_message", "reason", "detail", "description"}
	classFields     = []string{"exception_class", "exception", "class", "type", "error_type", "code", "kind"}
	groupFields     = []string{"consumer_group", "group_id", "group", "consumer"}
	topicFields     = []string{"original_topic", "source_topic", "topic"}
	partitionFields = []string{"original_partition", "partition"}
	offsetFields    = []string{"original_offset", "offset"}
)

// readValue reads a JSON wrapper: the original under one of
// originalFields, the error (an object or a string) under one of
// errorFields, origin fields in the error object or beside it. A value
// with neither is an as-is original (HasOriginal: it is its own original);
// a wrapper with error context but no original has none to replay.
func readValue(rec *event.Record, l *Letter) {
	l.Format, l.HasOriginal = FormatAsIs, rec.Value != nil
	var top map[string]json.RawMessage
	if json.Unmarshal(rec.Value, &top) != nil {
		return
	}
	orig, hasOrig := first(top, originalFields)
	errRaw, hasErr := first(top, errorFields)
	switch {
	case hasOrig && isObjectOrString(orig):
		l.Format, l.HasOriginal = FormatWrapped, true
	case hasErr:
		l.Format, l.HasOriginal = FormatWrapped, false
	default:
		return
	}
	var errObj map[string]json.RawMessage
	if json.Unmarshal(errRaw, &errObj) != nil {
		errObj = nil
		l.Message = str(errRaw)
	} else {
		l.Message = firstStr(errObj, messageFields)
		l.ExceptionClass = firstStr(errObj, classFields)
	}
	for _, m := range []map[string]json.RawMessage{errObj, top} {
		fillOrigin(m, l)
	}
}

// fillOrigin takes origin fields from m where l does not have them yet.
func fillOrigin(m map[string]json.RawMessage, l *Letter) {
	if m == nil {
		return
	}
	if l.ConsumerGroup == "" {
		l.ConsumerGroup = firstStr(m, groupFields)
	}
	if l.OriginalTopic == "" {
		l.OriginalTopic = firstStr(m, topicFields)
	}
	if l.OriginalPartition < 0 {
		if n, ok := firstInt(m, partitionFields); ok {
			l.OriginalPartition = int32(n)
		}
	}
	if l.OriginalOffset < 0 {
		if n, ok := firstInt(m, offsetFields); ok {
			l.OriginalOffset = n
		}
	}
}

func first(m map[string]json.RawMessage, keys []string) (json.RawMessage, bool) {
	for _, k := range keys {
		if v, ok := m[k]; ok && string(v) != "null" {
			return v, true
		}
	}
	return nil, false
}

func firstStr(m map[string]json.RawMessage, keys []string) string {
	for _, k := range keys {
		if s := str(m[k]); s != "" {
			return s
		}
	}
	return ""
}

func firstInt(m map[string]json.RawMessage, keys []string) (int64, bool) {
	for _, k := range keys {
		var n int64
		if v, ok := m[k]; ok && json.Unmarshal(v, &n) == nil {
			return n, true
		}
	}
	return 0, false
}

// str decodes a JSON string; "" for anything else.
func str(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

func isObjectOrString(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && (v[0] == '{' || v[0] == '"')
}
