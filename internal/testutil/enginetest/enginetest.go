// Package enginetest builds the real audit engine for tests: a built-in
// profile (huleedu or authorworks) loaded by name and compiled with the
// options the test needs, the test failing when either step does.
package enginetest

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/policy"
)

// Engine is the audit engine of the built-in profile name with opts
// (opts.Profile is set to that profile; Engine.Profile returns it).
func Engine(t testing.TB, name string, opts audit.Options) *audit.Engine {
	t.Helper()
	p, err := policy.LoadProfile(name)
	if err != nil {
		t.Fatalf("load profile %q: %v", name, err)
	}
	opts.Profile = p
	eng, err := audit.NewEngine(opts)
	if err != nil {
		t.Fatalf("compile the %s engine: %v", name, err)
	}
	return eng
}
