package main

import (
	"github.com/eventwatch/eventwatch/internal/testutil/tier"

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
	if a.String() != b.String() || !regexp.MustCompile(`^eventwatch \S+( commit \S+)?.* go1\.\S+\n$`).MatchString(a.String()) {
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

// TestVersionFromLdflagsWithoutVCS builds the binary the way CI images do
// (GOFLAGS=-buildvcs=false) with the Makefile's ldflags stamps: the version
// and commit come from the stamps, never "(devel)" or "commit unknown".
func TestVersionFromLdflagsWithoutVCS(t *testing.T) {
	tier.Slow(t, "builds the binary twice")
	bin := filepath.Join(t.TempDir(), "eventwatch")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X main.version=v9.8.7-test -X main.commit=0123abcd -X main.date=2026-12-06T05:00:00Z", ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("eventwatch version: %v", err)
	}
	want := "eventwatch v9.8.7-test commit 0123abcd (2026-12-06T05:00:00Z) go"
	if got := string(out); !strings.HasPrefix(got, want) || strings.Contains(got, "(devel)") || strings.Contains(got, "unknown") {
		t.Fatalf("eventwatch version = %q, want it to start with %q", got, want)
	}
}

// TestBuildInfoString checks each stamp falls back on its own and that an
// unknown commit is left out instead of printed as "unknown".
func TestBuildInfoString(t *testing.T) {
	for _, tc := range []struct {
		b    buildInfo
		want string
	}{
		{buildInfo{version: "v1.2.3", goVer: "go1.26"}, "eventwatch v1.2.3 go1.26"},
		{buildInfo{version: "(devel)", revision: "abc", time: "2026-01-01T00:00:00Z", goVer: "go1.26"},
			"eventwatch (devel) commit abc (2026-01-01T00:00:00Z) go1.26"},
	} {
		if got := tc.b.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if got := firstSet("", "b", "c"); got != "b" {
		t.Errorf("firstSet = %q, want b", got)
	}
}
