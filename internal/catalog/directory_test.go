package catalog

import (
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"os"
	"path/filepath"
	"testing"
)

func TestLoadExampleCatalog(t *testing.T) {
	c, err := LoadDir(filepath.Join("..", "..", "examples", "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range c.Entries() {
		types = append(types, e.Type)
		if e.Producer == "" || len(e.Consumers) == 0 || e.Topic == "" || e.Description == "" {
			t.Errorf("%s: incomplete entry %+v", e.Type, e)
		}
	}
	want := "content.book.published huleedu.batchorchestration.batch.pipelines_configured.v1 " +
		"huleedu.essaylifecycle.essay.spellcheck_requested.v1 huleedu.spellchecker.essay.spellcheck_completed.v1 user.account.created"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("types = %s\nwant   %s", got, want)
	}
	if e, ok := c.Lookup("huleedu.essaylifecycle.essay.spellcheck_requested.v1", "v1"); !ok || e.Producer != "essay_lifecycle_service" {
		t.Fatalf("Lookup with v1 = %+v, %v", e, ok)
	}
	if _, ok := c.Lookup("content.book.published", "1"); !ok {
		t.Fatal("Lookup 1 should find version 1.0")
	}
	if _, ok := c.Lookup("content.book.published", "2.0"); ok {
		t.Fatal("Lookup 2.0 should miss")
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	cases := map[string]string{
		"no-producer.yaml": "type: a.b.created\nversion: \"1\"\nschema: {type: object}\n",
		"bad-schema.yaml":  "type: a.b.created\nversion: \"1\"\nproducer: p\nschema: {type: objekt}\n",
		"bad-sample.yaml":  "type: a.b.created\nversion: \"1\"\nproducer: p\nschema: {type: object, required: [x]}\nsample: {data: {y: 1}}\n",
		"unknown.yaml":     "type: a.b.created\nversion: \"1\"\nproducer: p\nschema: {}\nowner: me\n",
	}
	want := map[string]string{
		"no-producer.yaml": "no-producer.yaml: producer: is required",
		"bad-schema.yaml":  "bad-schema.yaml: schema: compile schema",
		"bad-sample.yaml":  "bad-sample.yaml: sample.data: does not match the schema: data: missing property 'x'",
		"unknown.yaml":     "unknown.yaml: owner: unknown field",
	}
	if _, err := LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no entries") {
		t.Errorf("empty catalog dir: err = %v", err)
	}
	for name, body := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadDir(dir)
		if err == nil || !strings.Contains(err.Error(), want[name]) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, want[name])
		}
	}
}

// TestSchemaMessageHasNoValue: pattern and format errors name the rule the
// value broke, never the value (it is payload).
func TestSchemaMessageHasNoValue(t *testing.T) {
	for _, k := range []jsonschema.ErrorKind{
		&kind.Pattern{Got: "PAYLOAD-MARKER", Want: "^[a-z]+$"},
		&kind.Format{Got: "PAYLOAD-MARKER", Want: "email"},
	} {
		if msg := kindText(k); strings.Contains(msg, "PAYLOAD-MARKER") || msg == "" {
			t.Errorf("%T: %q", k, msg)
		}
	}
}
