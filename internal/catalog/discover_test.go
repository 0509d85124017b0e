package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDiscoverGolden(t *testing.T) {
	l, p := learnTraffic(t, fixedTraffic(), nil)
	doc := Discover(estateOf(l, p, fixedCluster()))
	y, err := doc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "discover.golden.yaml", y)
	j, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "discover.golden.json", j)
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal(y, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatal(err)
	}
}

// TestDiscoverInference checks what the golden file shows, one fact at a
// time: required = present in every event, types, items, formats, key
// role, operations and never a payload value.
func TestDiscoverInference(t *testing.T) {
	l, p := learnTraffic(t, fixedTraffic(), nil)
	doc := Discover(estateOf(l, p, fixedCluster()))
	schemas := doc.Components["schemas"].(map[string]any)
	book := schemas["content.book.published.v1.0.data"].(map[string]any)
	if got := strings.Join(book["required"].([]string), ","); got != "author_id,book_id,pages,tags,title" {
		t.Errorf("book required = %s (manuscript_ref is in a third of the events only)", got)
	}
	props := book["properties"].(map[string]any)
	if typ := props["pages"].(map[string]any)["type"]; typ != "integer" {
		t.Errorf("pages type = %v, want integer", typ)
	}
	if items := props["tags"].(map[string]any)["items"].(map[string]any); items["type"] != "string" {
		t.Errorf("tags items = %v, want strings", items)
	}
	user := schemas["user.account.created.v1.0.data"].(map[string]any)["properties"].(map[string]any)
	if f := user["user_id"].(map[string]any)["format"]; f != "uuid" {
		t.Errorf("user_id format = %v, want uuid", f)
	}
	if f := user["created_at"].(map[string]any)["format"]; f != "date-time" {
		t.Errorf("created_at format = %v, want date-time", f)
	}
	if typ := user["plan"].(map[string]any)["type"]; typ != "null" {
		t.Errorf("plan type = %v, want null", typ)
	}
	msgs := doc.Components["messages"].(map[string]any)
	if r := msgs["content.book.published.v1.0"].(map[string]any)["x-eventwatch-key-role"]; r != "data.book_id" {
		t.Errorf("book key role = %v, want data.book_id", r)
	}
	if r := msgs["user.account.created.v1.0"].(map[string]any)["x-eventwatch-key-role"]; r != KeyNone {
		t.Errorf("user key role = %v, want none", r)
	}
	for _, id := range []string{"send.content-service.content", "send.user-service.users", "send.legacy-signup.users",
		"receive.notification-service.content", "receive.search-service.content", "receive.search-service.users"} {
		if doc.Operations[id] == nil {
			t.Errorf("operation %s missing; have %v", id, sortedKeys(doc.Operations))
		}
	}
	if doc.Channels["__consumer_offsets"] != nil {
		t.Error("internal topic described as a channel")
	}
	y, _ := doc.YAML()
	for _, value := range []string{"bk-1", "The Quiet", "Title-", "au-1", "req-", "s3://", "4bf92f35"} {
		if strings.Contains(string(y), value) {
			t.Errorf("document contains the payload value %q", value)
		}
	}
}

// TestDiscoverConfluentFramed: values framed for the Schema Registry are
// learned through the frame; the document records their schema ids and
// where the id sits.
func TestDiscoverConfluentFramed(t *testing.T) {
	var recs []*event.Record
	for _, r := range fixedTraffic()[:30] {
		r.Value = append([]byte{0, 0, 0, 0x04, 0x12}, r.Value...) // schema id 1042
		recs = append(recs, r)
	}
	l, p := learnTraffic(t, recs, nil)
	doc := Discover(estateOf(l, p, nil))
	m := doc.Components["messages"].(map[string]any)["content.book.published.v1.0"].(map[string]any)
	if ids := m["x-eventwatch-schema-ids"]; !reflect.DeepEqual(ids, []int64{1042}) {
		t.Errorf("schema ids = %v", ids)
	}
	kb := m["bindings"].(map[string]any)["kafka"].(map[string]any)
	if kb["schemaIdLocation"] != "payload" || kb["schemaIdPayloadEncoding"] != "confluent" {
		t.Errorf("binding = %v", kb)
	}
	data := doc.Components["schemas"].(map[string]any)["content.book.published.v1.0.data"].(map[string]any)
	if data["properties"] == nil || m["x-eventwatch-compliant"] != int64(30) {
		t.Errorf("the framed events were not learned as JSON: %v, compliant %v", data, m["x-eventwatch-compliant"])
	}
	if ch := doc.Channels["content"].(map[string]any); ch["bindings"] != nil {
		t.Error("a channel binding without a cluster view")
	}
}

// TestDiscoverPerProfileDataPath: a type audited with a profile whose data
// field is elsewhere gets its data schema from that field.
func TestDiscoverPerProfileDataPath(t *testing.T) {
	l := NewLearner("data", nil)
	l.SetDataPaths(map[string]string{"custom": "body.payload"})
	for i := range 3 {
		rec := &event.Record{Topic: "orders", Value: []byte(fmt.Sprintf(`{"kind":"order.placed","body":{"payload":{"order_id":"o-%d"}}}`, i))}
		l.Observe(rec, &event.Result{EventType: "order.placed", Version: "1", Source: "orders", Profile: "custom"})
	}
	doc := Discover(&Estate{State: l.State(), DataPath: "data", Generated: testNow})
	data := doc.Components["schemas"].(map[string]any)["order.placed.v1.data"].(map[string]any)
	if data["required"] == nil || data["properties"].(map[string]any)["order_id"] == nil {
		t.Fatalf("data schema = %v", data)
	}
	m := doc.Components["messages"].(map[string]any)["order.placed.v1"].(map[string]any)
	if m["x-eventwatch-data-path"] != "body.payload" {
		t.Errorf("data path = %v", m["x-eventwatch-data-path"])
	}
	y, _ := doc.YAML()
	entries, err := ParseAsyncAPI(y)
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries = %+v, %v", entries, err)
	}
	if req := entries[0].Schema.(map[string]any)["required"]; fmt.Sprint(req) != "[order_id]" {
		t.Errorf("loaded data schema required = %v", req)
	}
}

// TestDeadLetterCopiesNotLearned: a dead-letter copy on a topic no
// dead-letter pattern names (a Spring ".DLT" topic, known by its headers:
// Result.DeadLetter) is not learned as its type produced there.
func TestDeadLetterCopiesNotLearned(t *testing.T) {
	l := NewLearner("data", nil)
	val := []byte(`{"kind":"order.placed","data":{"order_id":"o-1"}}`)
	l.Observe(&event.Record{Topic: "orders", Value: val}, &event.Result{EventType: "order.placed", Version: "1", Source: "shop"})
	l.Observe(&event.Record{Topic: "orders.DLT", Value: val}, &event.Result{EventType: "order.placed", Version: "1", Source: "shop", DeadLetter: true})
	st := l.State()
	if len(st.Types) != 1 || st.Types[0].Checked != 1 || len(st.Types[0].Topics) != 1 || st.Types[0].Topics["orders"] != 1 {
		t.Fatalf("types %+v; want order.placed learned once, on orders", st.Types)
	}
}
