package catalog

import (
	"errors"
	"strings"
	"testing"
)

// doc3 is a minimal valid AsyncAPI 3.0 catalog with one message whose
// parts the error cases replace.
const doc3 = `asyncapi: 3.0.0
info: {title: t, version: "1"}
channels:
  books:
    address: content
    messages:
      BookPublished: {$ref: '#/components/messages/BookPublished'}
operations:
  pub:
    action: send
    channel: {$ref: '#/channels/books'}
    x-eventwatch-service: content-service
components:
  messages:
    BookPublished:
      x-eventwatch-type: content.book.published
      x-eventwatch-version: "1.0"
      payload:
        type: object
        properties:
          data: {$ref: '#/components/schemas/Book'}
  schemas:
    Book: {type: object, required: [book_id]}
`

// TestParseErrorsNameThePath: every problem in a document is an error that
// names where it is, never a crash.
func TestParseErrorsNameThePath(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"payload not an object", "      payload:\n        type: object\n        properties:\n          data: {$ref: '#/components/schemas/Book'}\n", "      payload: 42\n",
			"components.messages.BookPublished.payload: must be an object"},
		{"no payload", "      payload:\n        type: object\n        properties:\n          data: {$ref: '#/components/schemas/Book'}\n", "      summary: none\n",
			"components.messages.BookPublished.payload: is required"},
		{"dangling $ref", "#/components/schemas/Book'", "#/components/schemas/Nope'",
			`components.messages.BookPublished.payload.properties.data: $ref "#/components/schemas/Nope": no member "Nope"`},
		{"bad schema", "Book: {type: object, required: [book_id]}", "Book: {type: objekt}",
			"components.messages.BookPublished.payload.properties.data: compile schema"},
		{"circular schema", "Book: {type: object, required: [book_id]}", "Book: {type: object, properties: {next: {$ref: '#/components/schemas/Book'}}}",
			"components.messages.BookPublished.payload.properties.data.properties.next: $ref \"#/components/schemas/Book\": circular schema reference"},
		{"circular refs", "Book: {type: object, required: [book_id]}", "Book: {$ref: '#/components/schemas/Book'}",
			"components.messages.BookPublished.payload.properties.data: $ref \"#/components/schemas/Book\": circular or longer than 64 references"},
		{"version", "asyncapi: 3.0.0", "asyncapi: 1.2.0", `asyncapi: version "1.2.0" is not supported`},
		{"no event version", "      x-eventwatch-version: \"1.0\"\n", "", "components.messages.BookPublished: no event version"},
		{"no producer", "    x-eventwatch-service: content-service\n", "", "components.messages.BookPublished: no producer"},
		{"bad action", "action: send", "action: emit", `operations.pub.action: must be send or receive, not "emit"`},
		{"operation channel", "channel: {$ref: '#/channels/books'}", "channel: {$ref: '#/components/schemas/Book'}", "operations.pub.channel: does not refer to a channel"},
		{"remote ref", "#/components/schemas/Book'", "https://example.com/book.json'", "remote references are not supported"},
		{"file ref without a file", "'#/components/schemas/Book'", "'book.yaml#/Book'", "file references need a document read from a file"},
		{"not yaml", "info: {title: t", "info: {title: [t", "document: not YAML or JSON"},
		{"channels a list", "channels:\n  books:", "channels:\n  - books:", "channels: must be an object"},
		{"multi-format avro", "      payload:\n        type: object\n", "      payload:\n        schemaFormat: application/vnd.apache.avro;version=1.9.0\n        schema:\n          type: object\n",
			`components.messages.BookPublished.payload.schemaFormat: "application/vnd.apache.avro;version=1.9.0" is not supported`},
	}
	if _, err := ParseAsyncAPI([]byte(doc3)); err != nil {
		t.Fatalf("the base document must load: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(doc3, c.old) {
				t.Fatalf("case does not apply: %q not in the document", c.old)
			}
			_, err := ParseAsyncAPI([]byte(strings.Replace(doc3, c.old, c.new, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseNoMessages(t *testing.T) {
	_, err := ParseAsyncAPI([]byte("asyncapi: 3.0.0\ninfo: {title: t, version: '1'}\n"))
	if !errors.Is(err, ErrNoMessages) {
		t.Fatalf("err = %v", err)
	}
	if entries, err := SeenEntries([]byte("asyncapi: 3.0.0\ninfo: {title: t, version: '1'}\n")); err != nil || entries != nil {
		t.Fatalf("SeenEntries of an empty estate = %v, %v", entries, err)
	}
}
