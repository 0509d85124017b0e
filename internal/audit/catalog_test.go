package audit

import (
	"path/filepath"
	"testing"

	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// exampleCatalog loads the shipped example catalog of a profile.
func exampleCatalog(t testing.TB, profile string) *catalog.Catalog {
	t.Helper()
	c, err := catalog.LoadDir(filepath.Join("..", "..", "examples", "catalog", profile))
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	return c
}

func withCatalog(c *catalog.Catalog) func(*Options) { return func(o *Options) { o.Catalog = c } }

// TestExampleCatalogSamplesAreCompliant audits every sample event of the
// shipped catalog with its profile and catalog: the examples must practise
// what they preach.
func TestExampleCatalogSamplesAreCompliant(t *testing.T) {
	for _, profile := range policy.BuiltinProfiles() {
		cat := exampleCatalog(t, profile)
		e := newTestEngine(t, profile, withCatalog(cat))
		for _, entry := range cat.Entries() {
			value, err := entry.SampleJSON()
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
