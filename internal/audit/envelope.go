package audit

import (
	"fmt"
	"strings"
)

// Envelope roles: the fields of an event envelope the engine reads,
// whatever their path in a given standard.
const (
	roleID = iota
	roleType
	roleVersion
	roleTimestamp
	roleCorrelation
	roleSource
	roleTraceID
	roleSpanID
	roleData
	numRoles
)

var roleNames = [numRoles]string{"id", "type", "version", "timestamp", "correlation_id", "source", "trace_id", "span_id", "data"}

// JSON value kinds as recorded by the scanner.
const (
	kindAbsent byte = 0
	kindString byte = 's'
	kindNumber byte = 'n'
	kindBool   byte = 'b'
	kindNull   byte = 'z'
	kindObject byte = 'o'
	kindArray  byte = 'a'
)

var kindNames = map[byte]string{kindString: "string", kindNumber: "number", kindBool: "boolean",
	kindNull: "null", kindObject: "object", kindArray: "array"}

// fieldRule is one compiled envelope field.
type fieldRule struct {
	defined  bool
	path     string
	required bool
	nullable bool
	typ      string // string, number, integer, boolean, object, array, any
	format   string
	accept   uint8 // kindBit of every kind typ accepts (see kindMatches)
	intOnly  bool  // typ is integer: a number must also be integral
}

// pathNode is a node of the envelope path trie the scanner walks.
type pathNode struct {
	name     string
	role     int
	children []*pathNode
	strict   bool
	full     string // dotted path from the root
}

func (n *pathNode) child(key []byte) *pathNode {
	for _, c := range n.children {
		if string(key) == c.name {
			return c
		}
	}
	return nil
}

func (n *pathNode) ensure(name string) *pathNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	c := &pathNode{name: name, role: -1, strict: n.strict, full: joinPath(n.full, name)}
	n.children = append(n.children, c)
	return c
}

var validTypes = map[string]bool{"string": true, "number": true, "integer": true, "boolean": true, "object": true, "array": true, "any": true}
var validFormats = map[string]bool{"": true, "uuid": true, "uuid_v4": true, "rfc3339_utc": true}

func defaultType(role int) string {
	if role == roleData {
		return "object"
	}
	return "string"
}

func compileEnvelope(doc *policyDoc, p *Profile) error {
	p.root = &pathNode{role: -1, strict: doc.Envelope.Strict}
	for _, name := range sortedKeys(doc.Envelope.Fields) {
		if err := compileField(p, name, doc.Envelope.Fields[name]); err != nil {
			return err
		}
	}
	for _, r := range []int{roleID, roleType} {
		if !p.fields[r].defined {
			return ferr("envelope.fields."+roleNames[r], "is required")
		}
	}
	for i, a := range doc.Envelope.Allow {
		if err := addPath(p.root, a, -1); err != nil {
			return ferr(fmt.Sprintf("envelope.allow[%d]", i), "%v", err)
		}
	}
	return nil
}

func compileField(p *Profile, name string, f fieldDoc) error {
	base := "envelope.fields." + name
	role := -1
	for i, n := range roleNames {
		if n == name {
			role = i
		}
	}
	if role < 0 {
		return ferr(base, "unknown envelope role (want one of %s)", strings.Join(roleNames[:], ", "))
	}
	if f.Type == "" {
		f.Type = defaultType(role)
	}
	if !validTypes[f.Type] {
		return ferr(base+".type", "must be string, number, integer, boolean, object, array or any (got %q)", f.Type)
	}
	if !validFormats[f.Format] {
		return ferr(base+".format", "must be uuid, uuid_v4 or rfc3339_utc (got %q)", f.Format)
	}
	if err := addPath(p.root, f.Path, role); err != nil {
		return ferr(base+".path", "%v", err)
	}
	p.fields[role] = fieldRule{defined: true, path: f.Path, required: f.Required, nullable: f.Nullable, typ: f.Type, format: f.Format,
		accept: acceptedKinds(f.Type), intOnly: f.Type == "integer"}
	return nil
}

func addPath(root *pathNode, dotted string, role int) error {
	if dotted == "" {
		return fmt.Errorf("is required")
	}
	parts := strings.Split(dotted, ".")
	n := root
	for _, part := range parts {
		if part == "" {
			return fmt.Errorf("empty segment in %q", dotted)
		}
		n = n.ensure(part)
	}
	if role >= 0 && n.role >= 0 && n.role != role {
		return fmt.Errorf("path %q already used by %s", dotted, roleNames[n.role])
	}
	if role >= 0 {
		n.role = role
	}
	return nil
}

// acceptedKinds is the kindBit mask of the non-null kinds typ accepts.
func acceptedKinds(typ string) uint8 {
	var m uint8
	for _, k := range []byte{kindString, kindNumber, kindBool, kindObject, kindArray} {
		if kindMatches(typ, k, true) {
			m |= kindBit(k)
		}
	}
	return m
}

// matches is kindMatches for the field's type, from the compiled mask.
func (f *fieldRule) matches(kind byte, integral bool) bool {
	return f.accept&kindBit(kind) != 0 && (integral || !f.intOnly)
}

// kindMatches reports whether a scanned kind satisfies a field type.
func kindMatches(typ string, kind byte, integral bool) bool {
	switch typ {
	case "any":
		return true
	case "string":
		return kind == kindString
	case "number":
		return kind == kindNumber
	case "integer":
		return kind == kindNumber && integral
	case "boolean":
		return kind == kindBool
	case "object":
		return kind == kindObject
	case "array":
		return kind == kindArray
	}
	return false
}
