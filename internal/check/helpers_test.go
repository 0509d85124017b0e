package check

import (
	"github.com/eventwatch/eventwatch/internal/catalog"

	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// testNow is the fixed clock of the stream tests (the corpus's day).
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestEngine builds an engine for a built-in profile with a fixed clock,
// with the profile's example catalog when withCatalog is set.
func newTestEngine(t testing.TB, profile string, withCatalog bool) *audit.Engine {
	t.Helper()
	p, err := policy.LoadProfile(profile)
	if err != nil {
		t.Fatalf("LoadProfile(%q): %v", profile, err)
	}
	opts := audit.Options{Profile: p, Now: func() time.Time { return testNow }}
	if withCatalog {
		if opts.Catalog, err = catalog.LoadDir(filepath.Join("..", "..", "examples", "catalog", profile)); err != nil {
			t.Fatalf("LoadCatalog: %v", err)
		}
	}
	e, err := audit.NewEngine(opts)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

// compliantHuleEdu is one compliant HuleEdu event (standard 000).
const compliantHuleEdu = `{"event_id":"3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0c",` +
	`"event_type":"huleedu.essaylifecycle.essay.spellcheck_requested.v1",` +
	`"event_timestamp":"2026-03-01T11:59:00.123456+00:00","source_service":"essay_lifecycle_service",` +
	`"correlation_id":"8c1d2e3f-4a5b-4c6d-9e7f-8a9b0c1d2e3f",` +
	`"data":{"entity_ref":{"entity_id":"essay-42","entity_type":"essay"},"language":"en","text_storage_id":"s3://essays/42/original.txt"}}`

// huleEvent is the compliant HuleEdu event with top-level fields replaced
// by the given JSON values.
func huleEvent(t testing.TB, overrides map[string]string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(compliantHuleEdu), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range overrides {
		m[k] = json.RawMessage(v)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
