//go:build linux

package main

import (
	"github.com/eventwatch/eventwatch/internal/testutil/tier"

	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestMakeDemoCtrlC runs `make demo` as a terminal would (its own process
// group), waits for the demo's banner and presses Ctrl-C (SIGINT to the
// whole group): make must have said what it was doing before the demo
// started, the daemon must stop cleanly and make must report no error
// (before the fix `go run` turned the clean stop into "make: *** ...
// Error 1").
func TestMakeDemoCtrlC(t *testing.T) {
	tier.Slow(t, "builds and runs make demo")
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-C", "../..", "demo", "BIN="+t.TempDir()+"/eventwatch",
		"ARGS=--http-addr 127.0.0.1:0 --kafka-addr 127.0.0.1:0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := startLines(t, cmd)
	wait.Within(t, 9*time.Minute, "the demo's banner", func() bool { return strings.Contains(out.String(), "Ctrl-C stops.") })
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	// make re-raises the SIGINT it received itself once its recipe ended;
	// what matters is what it said and that the demo ended cleanly.
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() > 0) {
		t.Errorf("make demo ended with %v", err)
	}
	text := out.String()
	for _, want := range []string{"make demo: building", "make demo: starting", "msg=stopped component=daemon"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "make: ***") || strings.Contains(text, "exit status") {
		t.Errorf("make reported an error after Ctrl-C:\n%s", text)
	}
}

// lines collects a process's combined output (exec copies into it and
// Wait waits for the copy to end).
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLines starts cmd with its stdout and stderr collected.
func startLines(t *testing.T, cmd *exec.Cmd) *lines {
	t.Helper()
	l := &lines{}
	cmd.Stdout, cmd.Stderr = l, l
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return l
}
