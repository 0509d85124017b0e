package layering

import (
	"go/build"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/eventwatch/eventwatch/"

// allowed maps a package (under internal/) to every package of
// eventwatch's own it may depend on, directly or not (the non-test
// imports, as `go list -deps` lists them). An empty list is a floor
// package.
var allowed = map[string][]string{
	"event":      nil,
	"secret":     nil,
	"strictyaml": nil,
	"topology":   nil,
	"nearest":    nil,
	"metrics":    nil,
	"mixin":      nil,
	"store":      nil,
	"policy":     {"event", "strictyaml"},
	"audit":      {"event", "strictyaml", "policy"},
}

// TestNoUpwardImport: the packages in allowed depend on nothing beyond
// their list.
func TestNoUpwardImport(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for pkg, ok := range allowed {
		deps := map[string]bool{}
		if err := collectDeps(root, "internal/"+pkg, deps); err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		var bad []string
		for d := range deps {
			if !slices.Contains(ok, strings.TrimPrefix(d, "internal/")) {
				bad = append(bad, d)
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("internal/%s depends on %s; it may only depend on %v", pkg, strings.Join(bad, ", "), ok)
		}
	}
}

// collectDeps adds to deps every package of the module that rel (a
// directory relative to the module root) imports, directly or not.
func collectDeps(root, rel string, deps map[string]bool) error {
	p, err := build.ImportDir(filepath.Join(root, rel), 0)
	if err != nil {
		return err
	}
	for _, imp := range p.Imports {
		dep, own := strings.CutPrefix(imp, module)
		if !own || deps[dep] {
			continue
		}
		deps[dep] = true
		if err := collectDeps(root, dep, deps); err != nil {
			return err
		}
	}
	return nil
}

// TestCollectDepsSeesImports: the walk finds a known direct and a known
// indirect dependency, so an empty result above means no imports, not a
// broken walk.
func TestCollectDepsSeesImports(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	deps := map[string]bool{}
	if err := collectDeps(root, "internal/check", deps); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"internal/audit", "internal/policy", "internal/event"} {
		if !deps[want] {
			t.Errorf("internal/check: %s not found among %v", want, deps)
		}
	}
}
