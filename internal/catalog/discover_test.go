package catalog

import (
	"encoding/json"
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
