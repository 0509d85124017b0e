package catalog

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxRefHops bounds the $ref chain followed from one place (and the
// nesting inlined below it), so a circular reference is an error, not a
// hang.
const maxRefHops = 64

// maxDocBytes bounds a document (and each file it references).
const maxDocBytes = 32 << 20

// refs resolves the $refs of an AsyncAPI document: "#/json/pointer" into
// the document itself and "file.yaml#/pointer" into local files next to
// it. Remote references are refused.
type refs struct {
	dir   string         // directory of the main document; "" when it has none
	docs  map[string]any // file name ("" = main document) -> decoded document
	stack []string       // canonical locations being inlined, to find cycles
}

// parseDocument decodes YAML or JSON into plain Go values (maps with string
// keys), naming the file in errors.
func parseDocument(name string, data []byte) (any, error) {
	if len(data) > maxDocBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, maxDocBytes>>20)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: not YAML or JSON: %w", name, err)
	}
	return plain(v), nil
}

// plain converts yaml.v3 values into the shapes encoding/json produces
// (string-keyed maps).
func plain(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = plain(x)
		}
		return t
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = plain(x)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = plain(x)
		}
		return t
	}
	return v
}

// follow returns the object v denotes, following $ref chains, and its
// canonical location ("file#/pointer"; where the object really is), which
// identifies it across references. at is the location of v itself.
func (r *refs) follow(v any, at string) (map[string]any, string, error) {
	for hops := 0; ; hops++ {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, at, fmt.Errorf("must be an object")
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m, at, nil
		}
		if hops == maxRefHops {
			return nil, at, fmt.Errorf("$ref %q: circular or longer than %d references", ref, maxRefHops)
		}
		target, loc, err := r.lookup(ref, at)
		if err != nil {
			return nil, at, err
		}
		v, at = target, loc
	}
}

// lookup resolves one $ref written at location at.
func (r *refs) lookup(ref, at string) (any, string, error) {
	file, ptr, _ := strings.Cut(ref, "#")
	if strings.Contains(file, "://") {
		return nil, "", fmt.Errorf("$ref %q: remote references are not supported (only local files)", ref)
	}
	atFile, _, _ := strings.Cut(at, "#")
	switch {
	case file == "":
		file = atFile
	case atFile != "":
		file = path.Join(path.Dir(atFile), file) // relative to the file holding the reference
	default:
		file = path.Clean(file)
	}
	doc, err := r.load(file)
	if err != nil {
		return nil, "", fmt.Errorf("$ref %q: %w", ref, err)
	}
	v, err := pointer(doc, ptr)
	if err != nil {
		return nil, "", fmt.Errorf("$ref %q: %w", ref, err)
	}
	return v, file + "#" + ptr, nil
}

// load returns a referenced file's document (cached).
func (r *refs) load(file string) (any, error) {
	if d, ok := r.docs[file]; ok {
		return d, nil
	}
	if r.dir == "" {
		return nil, fmt.Errorf("file references need a document read from a file")
	}
	path := filepath.Join(r.dir, filepath.FromSlash(file))
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	d, err := parseDocument(file, data)
	if err != nil {
		return nil, err
	}
	r.docs[file] = d
	return d, nil
}

// pointer evaluates a JSON pointer ("/a/b~1c") in doc.
func pointer(doc any, ptr string) (any, error) {
	if ptr == "" {
		return doc, nil
	}
	if ptr[0] != '/' {
		return nil, fmt.Errorf("not a JSON pointer (must start with /)")
	}
	v := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch t := v.(type) {
		case map[string]any:
			next, ok := t[tok]
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(t) {
				return nil, fmt.Errorf("no element %q", tok)
			}
			v = t[i]
		default:
			return nil, fmt.Errorf("%q is inside a scalar", tok)
		}
	}
	return v, nil
}

// inline returns v with every $ref below it replaced by its target (a copy;
// v is not modified), for schemas handed to the JSON Schema compiler. at is
// v's location (for relative file references) and path its document path
// (for errors). A circular schema is an error.
func (r *refs) inline(v any, at, path string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if _, isRef := t["$ref"].(string); isRef {
			return r.inlineRef(t, at, path)
		}
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			y, err := r.inline(t[k], at+"/"+k, path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			y, err := r.inline(x, at+"/"+strconv.Itoa(i), path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	return v, nil
}

func (r *refs) inlineRef(t map[string]any, at, path string) (any, error) {
	m, loc, err := r.follow(t, at)
	if err != nil {
		return nil, pathErr(path, err)
	}
	for _, s := range r.stack {
		if s == loc {
			return nil, pathErr(path, fmt.Errorf("$ref %q: circular schema reference", t["$ref"]))
		}
	}
	if len(r.stack) >= maxRefHops {
		return nil, pathErr(path, fmt.Errorf("schema nested deeper than %d references", maxRefHops))
	}
	r.stack = append(r.stack, loc)
	defer func() { r.stack = r.stack[:len(r.stack)-1] }()
	return r.inline(m, loc, path)
}

// PathError is a problem at one place of an AsyncAPI document, e.g.
// "components.messages.BookPublished.payload: must be an object".
type PathError struct {
	Path string // dotted document path
	Err  error
}

func (e *PathError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }

// pathErr wraps err with path unless it already names a path.
func pathErr(path string, err error) error {
	var pe *PathError
	if errors.As(err, &pe) {
		return err
	}
	return &PathError{Path: path, Err: err}
}
