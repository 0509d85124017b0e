package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exampleCatalog loads the shipped example catalog of a profile.
func exampleCatalog(t testing.TB, profile string) *Catalog {
	t.Helper()
	c, err := LoadCatalog(filepath.Join("..", "..", "examples", "catalog", profile))
	if err != nil {
		t.Fatalf("LoadCatalog: %v", err)
	}
	return c
}

func withCatalog(c *Catalog) func(*Options) { return func(o *Options) { o.Catalog = c } }

func TestLoadExampleCatalog(t *testing.T) {
	c, err := LoadCatalog(filepath.Join("..", "..", "examples", "catalog"))
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
	if _, err := LoadCatalog(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no entries") {
		t.Errorf("empty catalog dir: err = %v", err)
	}
	for name, body := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCatalog(dir)
		if err == nil || !strings.Contains(err.Error(), want[name]) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, want[name])
		}
	}
}

// TestExampleCatalogSamplesAreCompliant audits every sample event of the
// shipped catalog with its profile and catalog: the examples must practise
// what they preach.
func TestExampleCatalogSamplesAreCompliant(t *testing.T) {
	for _, profile := range BuiltinProfiles() {
		cat := exampleCatalog(t, profile)
		e := newTestEngine(t, profile, withCatalog(cat))
		for _, entry := range cat.Entries() {
			value, err := json.Marshal(normalizeYAML(entry.Sample))
			if err != nil {
				t.Fatal(err)
			}
			res := e.Check(&event.Record{Topic: entry.Topic, Key: []byte("resource-1"), Value: value})
			if len(res.Violations) != 0 || res.EventType != entry.Type {
				t.Errorf("%s sample: type %q, violations %+v", entry.Type, res.EventType, res.Violations)
			}
		}
	}
}
