package enginetest

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
)

// TestEngineAuditsWithTheNamedProfile: the engine runs the named built-in
// profile, so a record without an envelope breaks its rules.
func TestEngineAuditsWithTheNamedProfile(t *testing.T) {
	for _, name := range []string{"huleedu", "authorworks"} {
		eng := Engine(t, name, audit.Options{})
		if got := eng.Profile().Name; got != name {
			t.Fatalf("profile %q, want %q", got, name)
		}
		res := eng.Check(&event.Record{Topic: "t", Value: []byte(`{}`)})
		if len(res.Violations) == 0 {
			t.Errorf("%s: an empty object broke no rule", name)
		}
	}
}
