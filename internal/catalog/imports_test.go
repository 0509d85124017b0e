package catalog

import (
	goparser "go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoLagImport: discovery reads the cluster's shape from the leaf
// package internal/topology, never from the lag collector (issue 20).
func TestNoLagImport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		parsed, err := goparser.ParseFile(token.NewFileSet(), f, nil, goparser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if strings.Trim(imp.Path.Value, `"`) == "github.com/eventwatch/eventwatch/internal/lag" {
				t.Errorf("%s imports internal/lag", f)
			}
		}
	}
}
