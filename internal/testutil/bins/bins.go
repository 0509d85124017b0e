// Package bins finds the external programs tests drive (promtool, amtool,
// helm, chromium, kubectl-validate, initdb, node, java). Locally a missing
// program skips the test with the install hint; in strict mode (CI set to
// anything but "" or "false", or REQUIRE_TOOLS=1) a missing program fails
// it, because .ci/run installs every one of them and exports both.
package bins

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Strict reports whether a missing tool must fail the test: CI is set (to
// anything but "" or "false") or REQUIRE_TOOLS is "1".
func Strict() bool {
	if os.Getenv("REQUIRE_TOOLS") == "1" {
		return true
	}
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

// Missing skips the test with msg, or fails it in strict mode. Every test
// whose prerequisite (a program, the Kafka jars) is absent goes through
// here, so `make test` in CI never reports a plain "ok" for a test that
// did not run.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s (strict mode: CI or REQUIRE_TOOLS=1 is set, .ci/run must install it)", msg)
		return
	}
	t.Skip(msg)
}

// Require returns the path of the first of names found on PATH. When none is
// found it skips the test, or fails it in strict mode (see Strict).
func Require(t testing.TB, hint string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, "program "+fmtNames(names)+" not found on PATH; install with: "+hint)
	return ""
}

func fmtNames(names []string) string {
	return strings.Join(names, " or ")
}
