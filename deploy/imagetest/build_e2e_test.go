//go:build e2e

package imagetest

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileBuildsStaticBinary builds like the Dockerfile's build stage
// in a folder holding only what that stage copies.
func TestDockerfileBuildsStaticBinary(t *testing.T) {
	st := parseDockerfile(t)
	ctx := t.TempDir()
	for _, src := range st.copies {
		if out, err := exec.Command("cp", "-r", filepath.Join(root, src), ctx).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", src, err, out)
		}
	}
	removeTestdata(t, ctx) // Dockerfile.dockerignore leaves internal/**/testdata out
	env, args := goBuildArgs(t, st.goBuild)
	bin := filepath.Join(t.TempDir(), "eventwatch")
	args = replaceOutput(args, bin)
	cmd := exec.Command("go", args...)
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s (in a folder with only %v): %v\n%s", strings.Join(args, " "), st.copies, err, out)
	}
	assertStatic(t, bin)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), testVer) {
		t.Fatalf("eventwatch version = %q (%v), want it to name %s", out, err, testVer)
	}
}

// goBuildArgs turns "RUN --mount... CGO_ENABLED=0 GOOS=$TARGETOS ... go build ..."
// into env assignments and go's arguments, with the build args filled in.
func goBuildArgs(t *testing.T, line string) ([]string, []string) {
	t.Helper()
	repl := strings.NewReplacer("${VERSION}", testVer, "${COMMIT}", "0123abcd", "${DATE}", "", "$TARGETOS", "linux", "$TARGETARCH", goarch(t))
	line = repl.Replace(line)
	i := strings.Index(line, "go build")
	var env []string
	for _, f := range strings.Fields(line[:i]) {
		if regexp.MustCompile(`^[A-Z_]+=`).MatchString(f) {
			env = append(env, f)
		}
	}
	var args []string
	for _, m := range regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(line[i+len("go "):], -1) {
		args = append(args, strings.Trim(m, `"`))
	}
	return env, args
}

func goarch(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func replaceOutput(args []string, bin string) []string {
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = bin
		}
	}
	return args
}

func removeTestdata(t *testing.T, dir string) {
	t.Helper()
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "testdata" {
			dirs = append(dirs, p)
			return filepath.SkipDir
		}
		return nil
	})
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
}

// assertStatic fails unless bin is an ELF with no program interpreter and
// no dynamic section (runs on distroless/static, which has no libc).
func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("open built binary: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("binary has program header %v: not static", p.Type)
		}
	}
}
