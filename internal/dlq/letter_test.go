package dlq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

const original = `{"meta":{"id":"0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71","type":"content.book.published","source":"content-service"},"data":{"book_id":"b-1"}}`

func be32(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }
func be64(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func TestReadFormats(t *testing.T) {
	res := &event.Result{Source: "content-service", EventID: "0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71", EventType: "content.book.published"}
	tests := []struct {
		name string
		rec  event.Record
		want Letter
	}{
		{"wrapped", event.Record{Topic: "content.deadletter", Value: []byte(`{"original_event":` + original +
			`,"error":{"message":"schema validation failed: data.isbn missing for book-7f3a","consumer":"search-indexer","original_topic":"content.book","original_offset":41}}`)},
			Letter{Format: FormatWrapped, OwnerFrom: OwnerOriginal, OriginalTopic: "content.book", OriginalPartition: -1, OriginalOffset: 41,
				ConsumerGroup: "search-indexer", Message: "schema validation failed: data.isbn missing for <id>",
				ErrorClass: "schema validation failed: data.isbn missing for <id>", HasOriginal: true}},
		{"spring", event.Record{Topic: "orders.dlq", Value: []byte(original), Headers: []event.Header{
			{Key: "kafka_dlt-exception-fqcn", Value: []byte("org.springframework.kafka.listener.ListenerExecutionFailedException")},
			{Key: "kafka_dlt-exception-cause-fqcn", Value: []byte("java.lang.IllegalStateException")},
			{Key: "kafka_dlt-exception-message", Value: []byte("listener failed; order 1234 rejected for 'alice@example.com'\n\tat x.y")},
			{Key: "kafka_dlt-original-topic", Value: []byte("orders")},
			{Key: "kafka_dlt-original-partition", Value: be32(2)},
			{Key: "kafka_dlt-original-offset", Value: be64(77)},
			{Key: "kafka_dlt-original-consumer-group", Value: []byte("billing")}}},
			Letter{Format: FormatSpring, OwnerFrom: OwnerEnvelope, ExceptionClass: "java.lang.IllegalStateException",
				Message: "listener failed; order <n> rejected for <value>", OriginalTopic: "orders", OriginalPartition: 2, OriginalOffset: 77,
				ConsumerGroup: "billing", ErrorClass: "java.lang.IllegalStateException: listener failed; order <n> rejected for <value>", HasOriginal: true}},
		{"connect", event.Record{Topic: "sink.dlq", Value: []byte(original), Headers: []event.Header{
			{Key: "__connect.errors.topic", Value: []byte("orders")},
			{Key: "__connect.errors.partition", Value: []byte("3")},
			{Key: "__connect.errors.offset", Value: []byte("1200")},
			{Key: "__connect.errors.connector.name", Value: []byte("jdbc-sink")},
			{Key: "__connect.errors.exception.class.name", Value: []byte("org.apache.kafka.connect.errors.DataException")},
			{Key: "__connect.errors.exception.message", Value: []byte("Converting byte[] to Kafka Connect data failed due to serialization error")}}},
			Letter{Format: FormatConnect, OwnerFrom: OwnerEnvelope, ExceptionClass: "org.apache.kafka.connect.errors.DataException",
				Message:       "Converting byte[] to Kafka Connect data failed due to serialization error",
				OriginalTopic: "orders", OriginalPartition: 3, OriginalOffset: 1200, ConsumerGroup: "connect-jdbc-sink",
				ErrorClass: "org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error", HasOriginal: true}},
		{"as-is without error", event.Record{Topic: "content.deadletter", Value: []byte(original)},
			Letter{Format: FormatAsIs, OwnerFrom: OwnerEnvelope, OriginalPartition: -1, OriginalOffset: -1, ErrorClass: NoError, HasOriginal: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Read(&tc.rec, res)
			w := tc.want
			w.Topic, w.Service, w.EventID, w.EventType = tc.rec.Topic, res.Source, res.EventID, res.EventType
			if got != w {
				t.Errorf("Read:\n got %+v\nwant %+v", got, w)
			}
		})
	}
}

func TestOwnerFromTopic(t *testing.T) {
	l := Read(&event.Record{Topic: "content.deadletter", Value: []byte("x")}, &event.Result{Source: "content"})
	if l.OwnerFrom != OwnerTopic {
		t.Errorf("OwnerFrom = %q, want topic", l.OwnerFrom)
	}
}

func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"schema validation failed: data.isbn missing":                 "schema validation failed: data.isbn missing",
		"event 0b6f3a52-4c1e-4b8e-9a7d-2f1e0c9b8a71 not found":        "event <id> not found",
		"timeout after 3000 ms on host 10.0.0.12":                     "timeout after <n> ms on host <n>.<n>.<n>.<n>",
		`field "title" has value "The Quiet Shore"`:                   "field <value> has value <value>",
		"user user_42 unknown; book-1a2b missing":                     "user <id> unknown; <id> missing",
		"line one\nat com.x.Y(Y.java:12)":                             "line one",
		"  many    spaces  ":                                          "many spaces",
		"hash deadbeef01 mismatch":                                    "hash <n> mismatch",
		"NullPointerException: Cannot invoke String.length() on null": "NullPointerException: Cannot invoke String.length() on null",
	} {
		if got := Normalise(in); got != want {
			t.Errorf("Normalise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnwrap(t *testing.T) {
	spring := event.Record{Topic: "orders.dlq", Key: []byte("k1"), Value: []byte(original), Headers: []event.Header{
		{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")},
		{Key: "kafka_dlt-exception-fqcn", Value: []byte("X")}, {Key: "kafka_dlt-original-topic", Value: []byte("orders")}}}
	l := Read(&spring, nil)
	o, err := Unwrap(&spring, &l, nil)
	if err != nil || o.Topic != "orders" || string(o.Key) != "k1" || string(o.Value) != original || len(o.Headers) != 1 || o.Headers[0].Key != "traceparent" {
		t.Errorf("spring: %+v %v", o, err)
	}
	wrapped := event.Record{Topic: "content.deadletter", Key: []byte("b-1"), Value: []byte(`{"original_event": ` + original +
		`, "original_topic":"content.book","original_key":"book-1","original_headers":{"b":"2","a":"1"},"error":"x"}`)}
	l = Read(&wrapped, nil)
	o, err = Unwrap(&wrapped, &l, nil)
	if err != nil || o.Topic != "content.book" || string(o.Key) != "book-1" || !bytes.Equal(o.Value, []byte(original)) ||
		len(o.Headers) != 2 || o.Headers[0].Key != "a" {
		t.Errorf("wrapped: %+v %v", o, err)
	}
	bare := event.Record{Topic: "content.deadletter", Value: []byte(`{"error":"x","meta":{}}`)}
	l = Read(&bare, nil)
	if _, err := Unwrap(&bare, &l, nil); !errors.Is(err, ErrNoOriginal) {
		t.Errorf("no original: err = %v, want ErrNoOriginal", err)
	}
}

// FuzzRead: Read and Unwrap never panic, the error class is never empty and
// never longer than the bound allows.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"original_event":{"a":1},"error":{"message":"x 12"}}`), "kafka_dlt-exception-message", []byte("m"))
	f.Add([]byte(`{"original":"{\"a\":1}","error":"e"}`), "__connect.errors.offset", []byte("12"))
	f.Add([]byte("\xff\x00"), "kafka_dlt-original-offset", []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, value []byte, hk string, hv []byte) {
		rec := event.Record{Topic: "t.dlq", Value: value, Headers: []event.Header{{Key: hk, Value: hv}}}
		l := Read(&rec, nil)
		if l.ErrorClass == "" || len([]rune(l.Message)) > maxMessage+1 {
			t.Fatalf("letter %+v", l)
		}
		_, _ = Unwrap(&rec, &l, []string{"error"})
	})
}
