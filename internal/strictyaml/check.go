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

// checker walks a document alongside a Go type and collects every key
// the type has no field for and every value that cannot become its
// field's type. Each offending key is cut out of the document with its
// value (a list item becomes null, keeping the indexes after it), so the
// rest decodes and can be validated: one run reports every problem.
type checker struct{ errs []*Error }

// check checks n against t at path and reports whether n may stay in the
// document (false: the caller cuts it out).
func (c *checker) check(n *yaml.Node, t reflect.Type, path string) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.DocumentNode:
		return c.check(n.Content[0], t, path)
	case n.Kind == yaml.AliasNode:
		return c.check(n.Alias, t, path)
	case n.Tag == "!!null", reflect.PointerTo(t).Implements(unmarshalerType), t.Kind() == reflect.Interface:
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		return c.checkMapping(n, path, func(key string) (reflect.Type, bool) {
			ft, ok := Fields(t)[key]
			return ft, ok
		})
	case reflect.Map:
		return c.checkMapping(n, path, func(string) (reflect.Type, bool) { return t.Elem(), true })
	case reflect.Slice, reflect.Array:
		return c.checkSeq(n, t, path)
	default:
		return c.checkScalar(n, t, path)
	}
}

func (c *checker) add(e *Error) bool {
	c.errs = append(c.errs, e)
	return false
}

// checkMapping checks each key of mapping n (field gives a key's type, or
// false for an unknown key) and cuts out the pairs that do not fit.
func (c *checker) checkMapping(n *yaml.Node, path string, field func(string) (reflect.Type, bool)) bool {
	if n.Kind != yaml.MappingNode {
		return c.add(kindErr(n, path, "a mapping"))
	}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := field(k.Value)
		if !ok {
			c.add(&Error{Path: join(path, k.Value), Line: k.Line, Msg: "unknown field"})
			continue
		}
		if c.check(v, ft, join(path, k.Value)) {
			kept = append(kept, k, v)
		}
	}
	n.Content = kept
	return true
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

func (c *checker) checkSeq(n *yaml.Node, t reflect.Type, path string) bool {
	if t.Elem().Kind() == reflect.Uint8 && n.Kind == yaml.ScalarNode {
		return true // []byte from a string
	}
	if n.Kind != yaml.SequenceNode {
		return c.add(kindErr(n, path, "a list"))
	}
	for i, item := range n.Content {
		if !c.check(item, t.Elem(), path+"["+strconv.Itoa(i)+"]") {
			// a null keeps the indexes of the items after it, so the
			// paths validation reports still match the document
			n.Content[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: item.Line, Column: item.Column}
		}
	}
	return true
}

func (c *checker) checkScalar(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.ScalarNode {
		return c.add(kindErr(n, path, "a single value"))
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return c.add(&Error{Path: path, Line: n.Line, Msg: fmt.Sprintf("cannot parse %q as %s", n.Value, describe(t))})
	}
	return true
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

func kindErr(n *yaml.Node, path, want string) *Error {
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
