package helmtest

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestReadmeListsEveryValue walks values.yaml: a map documented as a whole
// in README.md (`path` in the values table) counts for its keys; otherwise
// each key must be documented.
func TestReadmeListsEveryValue(t *testing.T) {
	readme := readFile(t, filepath.Join(chartDir, "README.md"))
	var values map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(chartDir, "values.yaml"))), &values); err != nil {
		t.Fatal(err)
	}
	var missing []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			path := prefix + k
			if strings.Contains(readme, "| `"+path+"` |") {
				continue
			}
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(path+".", sub)
				continue
			}
			missing = append(missing, path)
		}
	}
	walk("", values)
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("README.md values table lacks: %s", strings.Join(missing, ", "))
	}
}
