// Package strictyaml is the one strict YAML decoder of eventwatch: the
// daemon's configuration (internal/config) and audit policies
// (internal/policy) both decode through it, so both report problems the
// same way: "path.to.key: problem (line N)".
//
// Decode first walks the document alongside the Go type it decodes into:
// a key the type has no field for, a value of the wrong kind (a list
// where a mapping belongs) or a scalar that cannot become the field's type
// (a duration without a unit) is an *Error naming the key's dotted path
// (list items as [i]) and line. Then it decodes with yaml.v3's own strict
// mode as a second guard. It imports nothing of eventwatch (a leaf).
package strictyaml

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrEmpty is returned for a document with no content.
var ErrEmpty = errors.New("document is empty")

// Error is one problem at a key of the document.
type Error struct {
	Path string // dotted key path, e.g. "kafka.sasl.mechanism" or "waivers[0].rule"
	Line int    // 1-based line of the key or value; 0 when unknown
	Msg  string // what is wrong
}

// Error formats "path: msg (line N)", leaving out the line when unknown.
func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Path + ": " + e.Msg
	}
	return e.Path + ": " + e.Msg + " (line " + strconv.Itoa(e.Line) + ")"
}

// Decode checks data against out's type and decodes it into out (a
// pointer), over whatever out already holds (defaults). It reports every
// problem, not the first: the error is an *Errors (one *Error per key, in
// document order). An empty document returns ErrEmpty and leaves out as it
// was.
func Decode(data []byte, out any) error {
	_, err := DecodeAll(data, out)
	return err
}

// DecodeAll is Decode that also returns the document (for LineOf and At
// when validating what was decoded) and decodes what it can even when
// some keys are wrong: the offending keys and list items are left out, so
// out keeps its defaults there and the rest can be validated in the same
// run. The document is nil after a syntax error or for an empty one.
func DecodeAll(data []byte, out any) (*yaml.Node, error) {
	root, err := Parse(data)
	if err != nil {
		return nil, err
	}
	var c checker
	c.check(root, reflectType(out), "")
	if err := root.Decode(out); err != nil {
		c.errs = append(c.errs, &Error{Path: "(document)", Msg: "decode yaml: " + err.Error()})
	}
	if len(c.errs) > 0 {
		return root, &Errors{List: c.errs}
	}
	return root, nil
}

// DecodeNode is DecodeAll for one node of a document already parsed (e.g.
// a section whose shape is only known at run time), reporting its keys
// under path: "path.key: unknown field (line N)". The offending keys are
// left out, so out keeps its defaults there.
func DecodeNode(n *yaml.Node, path string, out any) error {
	var c checker
	if n != nil && c.check(n, reflectType(out), path) {
		if err := n.Decode(out); err != nil {
			c.errs = append(c.errs, &Error{Path: path, Line: n.Line, Msg: "decode yaml: " + err.Error()})
		}
	}
	if len(c.errs) > 0 {
		return &Errors{List: c.errs}
	}
	return nil
}

// Errors is every problem of one document, one per line.
type Errors struct {
	List []*Error
}

// Error joins the problems, one per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, x := range e.List {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems (errors.As finds the first *Error).
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.List))
	for i, x := range e.List {
		out[i] = x
	}
	return out
}

// Parse returns the document node of data, or ErrEmpty, or a syntax error
// ("parse yaml: ...").
func Parse(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, ErrEmpty
	}
	return &doc, nil
}

// At returns an *Error for a problem found after decoding (validation) at
// path, with the line of that key looked up in root; a path the document
// does not spell (a default) gets the line of its nearest written parent,
// or none.
func At(root *yaml.Node, path, msg string) *Error {
	return &Error{Path: path, Line: LineOf(root, path), Msg: msg}
}

// LineOf returns the line of the key at the dotted path (list items as
// [i]) in root, of its nearest written parent when the key itself is
// absent, or 0.
func LineOf(root *yaml.Node, path string) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	parts := splitPath(path)
	for i := 0; i < len(parts); {
		next, l, used := longestChild(n, parts[i:])
		if next == nil {
			return line
		}
		n, line, i = next, l, i+used
	}
	return line
}

// longestChild is child for the longest run of parts that names one key:
// keys may hold dots themselves (rule ids such as "naming.topic").
func longestChild(n *yaml.Node, parts []string) (*yaml.Node, int, int) {
	for j := len(parts); j > 0; j-- {
		if j > 1 && strings.HasPrefix(parts[j-1], "[") {
			continue
		}
		if next, l := child(n, strings.Join(parts[:j], ".")); next != nil {
			return next, l, j
		}
	}
	return nil, 0, 0
}

// splitPath splits "a.b[2].c" into "a", "b", "[2]", "c".
func splitPath(path string) []string {
	var parts []string
	for _, seg := range strings.Split(path, ".") {
		for seg != "" {
			i := strings.IndexByte(seg[1:], '[')
			if i < 0 {
				parts = append(parts, seg)
				break
			}
			parts = append(parts, seg[:i+1])
			seg = seg[i+1:]
		}
	}
	return parts
}

// child returns the node under n named by part (a key or "[i]") and its line.
func child(n *yaml.Node, part string) (*yaml.Node, int) {
	if n == nil {
		return nil, 0
	}
	if strings.HasPrefix(part, "[") && strings.HasSuffix(part, "]") {
		i, err := strconv.Atoi(part[1 : len(part)-1])
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil, 0
		}
		return n.Content[i], n.Content[i].Line
	}
	if n.Kind != yaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == part {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}
