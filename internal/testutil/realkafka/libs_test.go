package realkafka

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Fatal and Skip instead of ending
// the real test; both stop the calling goroutine, like the real ones.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) {
	r.skip = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runRecorded(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

// TestMissingLibs: without the jars a test skips locally and fails in CI,
// and both say how to get them.
func TestMissingLibs(t *testing.T) {
	t.Setenv("EVENTWATCH_KAFKA_LIBS", t.TempDir())
	t.Setenv("REQUIRE_TOOLS", "") // strict mode is what CI=true turns on here
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := runRecorded(t, func(tb testing.TB) { requireLibs(tb) })
			msg, other := r.skip, r.fatal
			if ci == "true" {
				msg, other = r.fatal, r.skip
			}
			if msg == "" || other != "" {
				t.Fatalf("skip=%q fatal=%q", r.skip, r.fatal)
			}
			if !strings.Contains(msg, FetchCommand) || !strings.Contains(msg, "EVENTWATCH_KAFKA_LIBS") {
				t.Errorf("message %q does not say how to get the jars", msg)
			}
		})
	}
}
