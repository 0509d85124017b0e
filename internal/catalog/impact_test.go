package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func observedEntry() *Entry {
	return &Entry{Type: "content.book.published", Version: "1.0", Schema: map[string]any{
		"type": "object", "required": []any{"book_id", "isbn"},
		"properties": map[string]any{"book_id": map[string]any{"type": "string"}, "isbn": map[string]any{"type": "string"},
			"pages": map[string]any{"type": "integer"}},
	}}
}

func TestImpactTellsBreakingFromAdditive(t *testing.T) {
	props := func(extra map[string]any, drop ...string) map[string]any {
		p := map[string]any{"book_id": map[string]any{"type": "string"}, "isbn": map[string]any{"type": "string"},
			"pages": map[string]any{"type": "integer"}}
		for _, k := range drop {
			delete(p, k)
		}
		for k, v := range extra {
			p[k] = v
		}
		return map[string]any{"type": "object", "properties": p}
	}
	cases := []struct {
		name     string
		schema   map[string]any
		breaking []string
		additive []string
	}{
		{"new member", props(map[string]any{"subtitle": map[string]any{"type": "string"}}), nil, []string{"data.subtitle"}},
		{"removed member", props(nil, "isbn"), []string{"data.isbn"}, nil},
		{"retyped member", props(map[string]any{"pages": map[string]any{"type": "string"}}), []string{"data.pages"}, nil},
		{"integer widened to number", props(map[string]any{"pages": map[string]any{"type": "number"}}), nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var breaking, additive []string
			for _, ch := range Impact(&Entry{Schema: c.schema}, observedEntry()) {
				if ch.Breaking {
					breaking = append(breaking, ch.Path)
				} else {
					additive = append(additive, ch.Path)
				}
			}
			if !slices.Equal(breaking, c.breaking) || !slices.Equal(additive, c.additive) {
				t.Fatalf("breaking %v additive %v, want %v and %v", breaking, additive, c.breaking, c.additive)
			}
		})
	}
}

func TestLoadProposedReadsDataOrWholeEventOrAsyncAPI(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"data.json":  `{"type":"object","properties":{"book_id":{"type":"string"}}}`,
		"event.yaml": "type: object\nproperties:\n  meta: {type: object}\n  data:\n    type: object\n    properties:\n      book_id: {type: string}\n",
		"bad.json":   `[1,2]`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"data.json", "event.yaml"} {
		e, err := LoadProposed(filepath.Join(dir, name), "content.book.published", "1.0")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p := asMap(asMap(e.Schema)["properties"]); p["book_id"] == nil || p["data"] != nil {
			t.Fatalf("%s: the data schema is %v", name, e.Schema)
		}
	}
	if _, err := LoadProposed(filepath.Join(dir, "bad.json"), "t", "1"); err == nil {
		t.Fatal("an array is not a schema")
	}
	e, err := LoadProposed(filepath.Join("..", "..", "examples", "asyncapi", "authorworks-3.0.yaml"), "content.book.published", "1")
	if err != nil || e.Schema == nil {
		t.Fatalf("the example AsyncAPI document's message: %v %v", e, err)
	}
}

// TestReceiveOperationsListTheMessagesEachGroupReads: with readers known,
// a group's receive operation lists the messages it read, not every
// message of its channel.
func TestReceiveOperationsListTheMessagesEachGroupReads(t *testing.T) {
	recs := fixedTraffic()
	for i := range 5 {
		v := fmt.Sprintf(`{"meta":{"id":"9a1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e%02d","type":"content.book.published","version":"2.0",`+
			`"timestamp":"2026-03-01T11:%02d:00.000Z","correlation_id":"req-v2-%d","source":"content-service"},"data":{"book_id":"b"}}`, i, i, i)
		recs = append(recs, &event.Record{Topic: "content", Offset: int64(100 + i), Value: []byte(v), Timestamp: testNow.Add(-time.Minute)})
	}
	l, p := learnTraffic(t, recs, nil)
	e := estateOf(l, p, fixedCluster())
	e.Readers = map[ReadKey][]string{
		{"content.book.published", "1.0"}: {"search-service"},
		{"content.book.published", "2.0"}: {"notification-service", "search-service"},
	}
	doc := Discover(e)
	ops := doc.Operations
	want := map[string][]string{
		"receive.notification-service.content": {"content.book.published.v2.0"},
		"receive.search-service.content":       {"content.book.published.v1.0", "content.book.published.v2.0"},
	}
	for id, msgs := range want {
		op, ok := ops[id].(map[string]any)
		if !ok {
			t.Fatalf("no operation %s in %v", id, keys(ops))
		}
		var got []string
		for _, m := range op["messages"].([]any) {
			got = append(got, filepath.Base(m.(map[string]any)["$ref"].(string)))
		}
		if !slices.Equal(got, msgs) {
			t.Errorf("%s receives %v, want %v", id, got, msgs)
		}
	}
	raw, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	seen, err := SeenEntries(raw)
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := FindEntry(seen, "content.book.published", "1.0")
	if !slices.Equal(v1.Consumers, []string{"search-service"}) {
		t.Fatalf("consumers of 1.0 in the document: %v, want search-service only", v1.Consumers)
	}
	declared := *v1
	declared.Consumers = []string{"notification-service", "search-service"}
	diffs := Diff([]Entry{declared}, []Entry{*v1})
	if len(diffs) != 1 || diffs[0].Kind != DiffConsumer || !strings.Contains(diffs[0].Message, "notification-service") {
		t.Fatalf("catalog diff per version: %+v", diffs)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// FuzzImpact: whatever the proposed schema file holds, LoadProposed and
// Impact never panic, and a change is breaking only for a member traffic
// carries.
func FuzzImpact(f *testing.F) {
	f.Add([]byte(`{"type":"object","properties":{"book_id":{"type":"string"},"pages":{"type":["string","null"]}}}`))
	f.Add([]byte("type: object\nproperties:\n  data: {type: object, properties: {isbn: {type: [1, 2]}}}\n  meta: {}\n"))
	f.Add([]byte(`{"asyncapi":"3.0.0","components":{"messages":{}}}`))
	f.Add([]byte(`{"properties":{"book_id":{"items":{"properties":{"x":{}}}}},"additionalProperties":false}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "proposed.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		proposed, err := LoadProposed(path, "content.book.published", "1.0")
		if err != nil {
			return
		}
		observed := asMap(observedEntry().Schema)
		for _, c := range Impact(proposed, observedEntry()) {
			top := strings.SplitN(strings.TrimPrefix(c.Path, "data."), ".", 2)[0]
			top = strings.TrimSuffix(top, "[]")
			if c.Breaking && asMap(observed["properties"])[top] == nil && c.Path != "data" {
				t.Fatalf("breaking change on a member traffic never carried: %+v", c)
			}
		}
	})
}
