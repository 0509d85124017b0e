// Package tier marks the slow tests the edit loop (`make test-short`, go
// test -short) leaves out: tests that build the binary, run promtool's whole
// rule suite, wait out real timeouts or start a PostgreSQL server. `make
// test` and CI run every test.
package tier

import "testing"

// Slow skips t under -short, saying why it is slow.
func Slow(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("slow (%s): make test runs it", why)
	}
}
