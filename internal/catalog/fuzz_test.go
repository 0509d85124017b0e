package catalog

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseAsyncAPI: whatever the bytes, ParseAsyncAPI never panics and
// returns either an error with a message or entries that make a catalog.
func FuzzParseAsyncAPI(f *testing.F) {
	for _, p := range []string{
		filepath.Join("..", "..", "examples", "asyncapi", "authorworks-3.0.yaml"),
		filepath.Join("..", "..", "examples", "asyncapi", "authorworks-2.6.yaml"),
		filepath.Join("testdata", "discover.golden.json"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(doc3))
	f.Add([]byte(`{"asyncapi":"3.0.0","components":{"messages":{"m":{"$ref":"#/components/messages/m"}}}}`))
	f.Add([]byte("asyncapi: 2.6.0\nchannels: {a: {subscribe: {message: {oneOf: [1]}}}}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseAsyncAPI(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if _, err := New(entries); err != nil {
			// Each entry loads alone; only duplicates may fail together.
			for _, e := range entries {
				if _, err := New([]Entry{e}); err != nil {
					t.Fatalf("entry %s accepted by ParseAsyncAPI but not by the catalog: %v", e.Type, err)
				}
			}
		}
	})
}

// TestFileRefs: a document loaded from a file resolves $refs into local
// files next to it, relative to the file that holds the reference.
func TestFileRefs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("asyncapi.yaml", `asyncapi: 3.0.0
info: {title: t, version: "1"}
channels:
  books:
    address: content
    messages:
      BookPublished: {$ref: 'messages/book.yaml#/BookPublished'}
operations:
  pub: {action: send, channel: {$ref: '#/channels/books'}, x-eventwatch-service: content-service}
`)
	write("messages/book.yaml", `BookPublished:
  x-eventwatch-type: content.book.published
  x-eventwatch-version: "1.0"
  payload:
    type: object
    properties:
      data: {$ref: '#/Book'}
Book: {type: object, required: [book_id], properties: {book_id: {$ref: 'id.yaml#/Id'}}}
`)
	write("messages/id.yaml", "Id: {type: string, minLength: 1}\n")
	cat, err := Load(filepath.Join(dir, "asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := cat.Lookup("content.book.published", "1")
	if !ok || e.Producer != "content-service" || e.Topic != "content" {
		t.Fatalf("entry = %+v, %v", e, ok)
	}
	props := e.Schema.(map[string]any)["properties"].(map[string]any)
	if props["book_id"].(map[string]any)["minLength"] != 1 {
		t.Errorf("file reference not inlined: %v", props)
	}
}
