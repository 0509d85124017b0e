package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/strictyaml"
)

// deprecatedKeys are accepted and migrated (Config.MigrateDeprecated,
// store.Config) but no longer documented as keys of their own.
var deprecatedKeys = map[string]bool{
	"reports.token": true, "reports.token_file": true, "reports.protect_metrics": true,
	"store.max_examples_per_rule_hour": true,
}

// TestReferenceConfigNamesEveryKey: docs/reference-config.yaml spells
// every key of Config, as a key or, when its default depends on the
// environment, as a comment ("# workers: <GOMAXPROCS>");
// TestReferenceConfigIsDefaults cannot see a key it leaves out, the
// default fills it. Keys inside lists and maps (overrides, targets) are
// examples there, not checked.
func TestReferenceConfigNamesEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "reference-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := strictyaml.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	writtenPaths(root.Content[0], "", written)
	var missing []string
	for _, k := range configKeys(reflect.TypeFor[Config](), "") {
		leaf := k[strings.LastIndex(k, ".")+1:]
		commented := regexp.MustCompile(`(?m)^\s*#\s*` + regexp.QuoteMeta(leaf) + `:`).Match(data)
		if !written[k] && !commented && !deprecatedKeys[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("docs/reference-config.yaml lacks %s (add it with its default and a comment; docs/configuration.md describes it)", k)
	}
}

// configKeys lists the dotted YAML paths of the fields of struct t, down
// to the leaves (a struct inside a list or map is not walked).
func configKeys(t reflect.Type, prefix string) []string {
	var out []string
	for k, ft := range strictyaml.Fields(t) {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() && !isScalarStruct(ft) {
			out = append(out, configKeys(ft, path)...)
			continue
		}
		out = append(out, path)
	}
	return out
}

// isScalarStruct reports whether a struct type decodes from one YAML
// value (it implements yaml.Unmarshaler).
func isScalarStruct(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]())
}

// writtenPaths adds the dotted path of every mapping key under n.
func writtenPaths(n *yaml.Node, prefix string, out map[string]bool) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		path := n.Content[i].Value
		if prefix != "" {
			path = prefix + "." + path
		}
		out[path] = true
		writtenPaths(n.Content[i+1], path, out)
	}
}
