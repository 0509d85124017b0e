package audit

import (
	"sort"
	"strings"

	"github.com/eventwatch/eventwatch/internal/policy"
)

// Envelope roles: the fields of an event envelope the engine reads
// (policy.Role), as the ints the scanner indexes its spans with.
const (
	roleID          = int(policy.RoleID)
	roleType        = int(policy.RoleType)
	roleVersion     = int(policy.RoleVersion)
	roleTimestamp   = int(policy.RoleTimestamp)
	roleCorrelation = int(policy.RoleCorrelation)
	roleSource      = int(policy.RoleSource)
	roleTraceID     = int(policy.RoleTraceID)
	roleSpanID      = int(policy.RoleSpanID)
	roleData        = int(policy.RoleData)
	numRoles        = int(policy.NumRoles)
)

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

// compileEnvelope builds the engine's view of the profile's envelope: the
// field of each role and the path trie the scanner walks (the policy
// package has checked the paths: no empty segment, no path with two roles).
func compileEnvelope(p *policy.Profile) (fields [numRoles]fieldRule, root *pathNode) {
	root = &pathNode{role: -1, strict: p.EnvelopeStrict()}
	for _, r := range rolesByName() {
		f := p.Field(policy.Role(r))
		if !f.Defined() {
			continue
		}
		addPath(root, f.Path, r)
		fields[r] = fieldRule{defined: true, path: f.Path, required: f.Required, nullable: f.Nullable, typ: f.Type, format: f.Format,
			accept: acceptedKinds(f.Type), intOnly: f.Type == "integer"}
	}
	for _, a := range p.EnvelopeAllow() {
		addPath(root, a, -1)
	}
	return fields, root
}

// rolesByName lists the roles in the order of their names, the order the
// policy lists envelope.fields in (the trie's children keep that order).
func rolesByName() []int {
	rs := make([]int, numRoles)
	for r := range rs {
		rs[r] = r
	}
	sort.Slice(rs, func(i, j int) bool { return policy.Role(rs[i]).String() < policy.Role(rs[j]).String() })
	return rs
}

// addPath adds the nodes of a dotted path to the trie and gives the last
// one role (-1: an allowed path with no role).
func addPath(root *pathNode, dotted string, role int) {
	n := root
	for _, part := range strings.Split(dotted, ".") {
		n = n.ensure(part)
	}
	if role >= 0 {
		n.role = role
	}
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
