package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersionFlagAndCommand checks that `version` and `--version` print the
// same line, and that extra arguments are a usage error.
func TestVersionFlagAndCommand(t *testing.T) {
	var a, b, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &a, &stderr); code != 0 {
		t.Fatalf("version = %d: %s", code, stderr.String())
	}
	if code := run(context.Background(), []string{"--version"}, &b, &stderr); code != 0 {
		t.Fatalf("--version = %d: %s", code, stderr.String())
	}
	if a.String() != b.String() || !regexp.MustCompile(`^eventwatch \S+ commit \S+.* go1\.\S+\n$`).MatchString(a.String()) {
		t.Fatalf("version printed %q and --version %q", a.String(), b.String())
	}
	if code := run(context.Background(), []string{"version", "extra"}, &a, &stderr); code != 2 {
		t.Fatalf("version extra = %d, want 2", code)
	}
}

// TestVersionOfBuiltBinary builds the command from this checkout and checks
// that it reports the checkout's commit (debug.ReadBuildInfo's vcs.revision).
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	if fi, err := os.Stat(filepath.Join("..", "..", ".git")); err != nil || !fi.IsDir() {
		// The go command stamps VCS information only when .git is a
		// directory, not in a linked git worktree (whose .git is a file).
		t.Skip("not a plain git clone: go build does not stamp VCS information here")
	}
	bin := filepath.Join(t.TempDir(), "eventwatch")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("eventwatch --version: %v", err)
	}
	want := "commit " + strings.TrimSpace(string(head))
	if !strings.Contains(string(out), want) {
		t.Fatalf("eventwatch --version = %q, want it to contain %q", out, want)
	}
}
