// Package bins finds the external programs tests drive (promtool, amtool,
// helm, chromium, kubectl-validate, initdb, node, java). Locally a missing
// program skips the test with the install hint; in CI (CI=true) a missing
// program fails it, because .ci/run installs every one of them.
package bins

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of the first of names found on PATH. When none is
// found it skips the test, or fails it when the CI variable is "true".
func Require(t testing.TB, hint string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v not found on PATH in CI (.ci/run must install it: %s)", names, hint)
	}
	t.Skipf("%v not found on PATH; install with: %s", names, hint)
	return ""
}
