package strictyaml

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

func reflectType(v any) reflect.Type { return reflect.TypeOf(v) }

var (
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	durationType    = reflect.TypeFor[time.Duration]()
)

// checkNode walks n alongside the Go type t and reports the first key that
// t has no field for, or value that cannot become a t, with its path.
func checkNode(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.DocumentNode:
		return checkNode(n.Content[0], t, path)
	case n.Kind == yaml.AliasNode:
		return checkNode(n.Alias, t, path)
	case n.Tag == "!!null", reflect.PointerTo(t).Implements(unmarshalerType), t.Kind() == reflect.Interface:
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return checkStruct(n, t, path)
	case reflect.Map:
		return checkMap(n, t, path)
	case reflect.Slice, reflect.Array:
		return checkSeq(n, t, path)
	default:
		return checkScalar(n, t, path)
	}
}

func checkStruct(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode {
		return kindErr(n, path, "a mapping")
	}
	fields := Fields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			return &Error{Path: join(path, k.Value), Line: k.Line, Msg: "unknown field"}
		}
		if err := checkNode(v, ft, join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// Fields maps the YAML keys of struct t to their field types, following
// inlined structs and skipping `yaml:"-"` fields.
func Fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
			continue
		case strings.Contains(opts, "inline"):
			for k, v := range Fields(f.Type) {
				out[k] = v
			}
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func checkMap(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode {
		return kindErr(n, path, "a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := checkNode(v, t.Elem(), join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

func checkSeq(n *yaml.Node, t reflect.Type, path string) error {
	if t.Elem().Kind() == reflect.Uint8 && n.Kind == yaml.ScalarNode {
		return nil // []byte from a string
	}
	if n.Kind != yaml.SequenceNode {
		return kindErr(n, path, "a list")
	}
	for i, item := range n.Content {
		if err := checkNode(item, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
			return err
		}
	}
	return nil
}

func checkScalar(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.ScalarNode {
		return kindErr(n, path, "a single value")
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return &Error{Path: path, Line: n.Line, Msg: fmt.Sprintf("cannot parse %q as %s", n.Value, describe(t))}
	}
	return nil
}

func describe(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration (use a unit, e.g. 30s or 5m)"
	case t.Kind() == reflect.Bool:
		return "a boolean (true or false)"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "an integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	}
	return t.String()
}

func kindErr(n *yaml.Node, path, want string) error {
	got := map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}[n.Kind]
	if path == "" {
		path = "(top level)"
	}
	return &Error{Path: path, Line: n.Line, Msg: fmt.Sprintf("expected %s, got %s", want, got)}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
