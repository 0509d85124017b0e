package imagetest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	root       = "../.."
	dockerfile = "../Dockerfile"
	testVer    = "9.9.9-imagetest"
)

// buildStage is what the test reads from the Dockerfile's build stage.
type buildStage struct {
	copies  []string // sources of COPY lines (repository paths)
	goBuild string   // the go build command line, continuation lines joined
}

func parseDockerfile(t *testing.T) buildStage {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st buildStage
	var stage int
	var cont strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "FROM ") {
			stage++
		}
		if stage != 1 || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "COPY ") && !strings.Contains(line, "--from") {
			fields := strings.Fields(line)
			st.copies = append(st.copies, fields[1:len(fields)-1]...)
		}
		if cont.Len() > 0 || strings.HasPrefix(line, "RUN ") && strings.Contains(line, "--mount") && !strings.Contains(line, "mod download") {
			cont.WriteString(strings.TrimSuffix(line, "\\") + " ")
			if !strings.HasSuffix(line, "\\") {
				st.goBuild = cont.String()
				cont.Reset()
			}
		}
	}
	if len(st.copies) == 0 || !strings.Contains(st.goBuild, "go build") {
		t.Fatalf("Dockerfile build stage not understood: copies=%v build=%q", st.copies, st.goBuild)
	}
	return st
}

// TestDockerfileCopiesEveryPackage checks, without building, that every
// package of this module the binary links lives under a folder the
// Dockerfile's build stage copies (the build itself runs under make e2e:
// TestDockerfileBuildsStaticBinary).
func TestDockerfileCopiesEveryPackage(t *testing.T) {
	st := parseDockerfile(t)
	if !strings.Contains(st.goBuild, "CGO_ENABLED=0") || !strings.Contains(st.goBuild, "./cmd/eventwatch") {
		t.Fatalf("build stage runs %q, want a CGO_ENABLED=0 build of ./cmd/eventwatch", st.goBuild)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./cmd/eventwatch")
	cmd.Dir = absRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dirs := strings.Fields(string(out))
	if len(dirs) < 5 {
		t.Fatalf("go list found only %v", dirs)
	}
	for _, d := range dirs {
		rel, err := filepath.Rel(absRoot, d)
		if err != nil {
			t.Fatal(err)
		}
		if !copied(st.copies, filepath.ToSlash(rel)) {
			t.Errorf("package folder %s is linked into the binary but the Dockerfile copies only %v", rel, st.copies)
		}
	}
}

func copied(copies []string, rel string) bool {
	for _, c := range copies {
		c = strings.TrimSuffix(strings.TrimPrefix(c, "./"), "/")
		if rel == c || strings.HasPrefix(rel, c+"/") {
			return true
		}
	}
	return false
}
