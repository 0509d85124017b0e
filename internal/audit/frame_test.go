package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"strings"
	"testing"
)

// framed prefixes v with the Confluent wire-format header for schema id.
func framed(id uint32, v []byte) []byte {
	return append([]byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, v...)
}

// TestConfluentFraming: a JSON value framed for the Confluent Schema
// Registry is audited as the JSON it carries, with the schema id on the
// result; binary that merely starts with 0 is still invalid JSON.
func TestConfluentFraming(t *testing.T) {
	eng := newTestEngine(t, "authorworks", withCatalog(exampleCatalog(t, "authorworks")))
	plain := eng.Check(&event.Record{Topic: "content", Key: []byte("bk-1001"), Value: awEvent(nil), Timestamp: testNow})
	res := eng.Check(&event.Record{Topic: "content", Key: []byte("bk-1001"), Value: framed(1042, awEvent(nil)), Timestamp: testNow})
	if res.SchemaID != 1042 {
		t.Errorf("SchemaID = %d, want 1042", res.SchemaID)
	}
	if got, want := strings.Join(ruleIDs(res), ","), strings.Join(ruleIDs(plain), ","); got != want {
		t.Errorf("framed violations %q, unframed %q", got, want)
	}
	if res.EventType != "content.book.published" || res.Source != "content-service" || res.EventID != plain.EventID {
		t.Errorf("envelope not read through the frame: %+v", res)
	}
	if plain.SchemaID != 0 {
		t.Errorf("unframed SchemaID = %d", plain.SchemaID)
	}
	bad := eng.Check(&event.Record{Topic: "content", Value: framed(7, awEvent(map[string]string{"data": `{"book_id":"bk-1"}`}))})
	if _, ok := findViolation(bad, "catalog.schema"); !ok {
		t.Errorf("framed data is checked against the catalog schema: %v", ruleIDs(bad))
	}
	for name, v := range map[string][]byte{
		"binary":          []byte("\x00\x01junk"),
		"header only":     {0, 0, 0, 0, 1},
		"frame then text": framed(3, []byte("not json")),
		"truncated json":  framed(3, []byte(`{"meta":`)),
	} {
		r := eng.Check(&event.Record{Topic: "content", Value: v})
		if _, ok := findViolation(r, "envelope.invalid_json"); !ok {
			t.Errorf("%s: want envelope.invalid_json, got %v", name, ruleIDs(r))
		}
	}
}
