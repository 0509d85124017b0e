package audit

// The recursive scanner this package shipped first, kept as a reference
// implementation: FuzzWalkMatchesReference checks the iterative walk
// against it.

import (
	"encoding/binary"
	"math/bits"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/eventwatch/eventwatch/internal/policy"
)

func (s *scanner) refSkipWS() {
	i, buf := s.pos, s.buf
	for i < len(buf) && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r') {
		i++
	}
	s.pos = i
}

func (s *scanner) refValue(l loc) (span, bool) {
	if s.pos >= len(s.buf) {
		return span{}, s.fail("truncated: value expected")
	}
	start := s.pos
	var sp span
	var ok bool
	switch c := s.buf[s.pos]; c {
	case '"':
		if l.hash != 0 {
			s.refNoteShape(l, kindString)
		}
		return s.refStringValue()
	case '{':
		if l.hash != 0 {
			s.refNoteShape(l, kindObject)
		}
		sp.kind, ok = kindObject, s.refObject(l)
	case '[':
		if l.hash != 0 {
			s.refNoteShape(l, kindArray)
		}
		sp.kind, ok = kindArray, s.refArray(l)
	case 't', 'f', 'n':
		sp.kind, ok = s.refLiteralValue(c)
		if l.hash != 0 {
			s.refNoteShape(l, sp.kind)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if l.hash != 0 {
			s.refNoteShape(l, kindNumber)
		}
		sp.kind = kindNumber
		sp.integral, ok = s.refNumber()
	default:
		return span{}, s.fail("invalid character " + quoteByte(c) + " where a value was expected")
	}
	sp.start, sp.end = int32(start), int32(s.pos)
	return sp, ok
}

func (s *scanner) refLiteralValue(c byte) (byte, bool) {
	switch c {
	case 't':
		return kindBool, s.refLiteral("true")
	case 'f':
		return kindBool, s.refLiteral("false")
	}
	return kindNull, s.refLiteral("null")
}

func (s *scanner) refNoteShape(l loc, kind byte) {
	if l.dd == 0 || len(s.shape) >= maxShapeEntries {
		return
	}
	s.shape = append(s.shape, shapeEntry{hash: l.hash, kind: kind, inArray: l.arr})
}

func (s *scanner) refEnter() bool {
	s.depth++
	if s.depth > maxDepth {
		return s.fail("nesting deeper than 64 levels")
	}
	return true
}

func (s *scanner) refObject(l loc) bool {
	if !s.refEnter() {
		return false
	}
	s.pos++
	s.refSkipWS()
	if s.pos < len(s.buf) && s.buf[s.pos] == '}' {
		s.pos++
		s.depth--
		return true
	}
	for {
		if !s.refMember(l) {
			return false
		}
		s.refSkipWS()
		if s.pos >= len(s.buf) {
			return s.fail("truncated: object not closed")
		}
		switch s.buf[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return true
		default:
			return s.fail("expected ',' or '}' after object member")
		}
	}
}

func (s *scanner) refMember(l loc) bool {
	s.refSkipWS()
	if s.pos >= len(s.buf) {
		return s.fail("truncated: object key expected")
	}
	if s.buf[s.pos] != '"' {
		return s.fail("object key must be a string")
	}
	ks, ok := s.refStringToken()
	if !ok {
		return false
	}
	key := s.buf[ks.start:ks.end]
	if ks.escaped {
		key = s.unescapeScratch(key)
	}
	s.refSkipWS()
	if s.pos >= len(s.buf) || s.buf[s.pos] != ':' {
		return s.fail("expected ':' after object key")
	}
	s.pos++
	s.refSkipWS()
	var child loc
	if l.node != nil || l.hash != 0 {
		child = l.childLoc(s, key)
	}
	s.stack[s.depth] = pathElem{start: ks.start, end: ks.end}
	sp, ok := s.refValue(child)
	if ok && child.node != nil && child.node.role >= 0 {
		s.fields[child.node.role] = sp
	}
	return ok
}

func (s *scanner) refArray(l loc) bool {
	if !s.refEnter() {
		return false
	}
	s.pos++
	s.refSkipWS()
	if s.pos < len(s.buf) && s.buf[s.pos] == ']' {
		s.pos++
		s.depth--
		return true
	}
	var el loc
	if l.hash != 0 && l.dd < maxShapeDepth {
		el = loc{hash: hashByte(hashByte(l.hash, '['), ']'), arr: true, dd: l.dd + 1}
	}
	for i := int32(0); ; i++ {
		s.refSkipWS()
		s.stack[s.depth] = pathElem{end: -1, index: i}
		if _, ok := s.refValue(el); !ok {
			return false
		}
		s.refSkipWS()
		if s.pos >= len(s.buf) {
			return s.fail("truncated: array not closed")
		}
		switch s.buf[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return true
		default:
			return s.fail("expected ',' or ']' after array element")
		}
	}
}

func (s *scanner) refLiteral(word string) bool {
	if len(s.buf)-s.pos < len(word) || string(s.buf[s.pos:s.pos+len(word)]) != word {
		return s.fail("invalid literal, expected " + word)
	}
	s.pos += len(word)
	return true
}

func (s *scanner) refNumber() (integral, ok bool) {
	buf, i := s.buf, s.pos
	if buf[i] == '-' {
		i++
	}
	switch {
	case i < len(buf) && buf[i] == '0':
		i++
	case i < len(buf) && buf[i] >= '1' && buf[i] <= '9':
		i = skipDigits(buf, i+1)
	default:
		s.pos = i
		return false, s.fail("invalid number")
	}
	integral = true
	if i < len(buf) && buf[i] == '.' {
		j := skipDigits(buf, i+1)
		if j == i+1 {
			s.pos = j
			return false, s.fail("invalid number: digit expected after '.'")
		}
		i, integral = j, false
	}
	if i < len(buf) && (buf[i] == 'e' || buf[i] == 'E') {
		i++
		if i < len(buf) && (buf[i] == '+' || buf[i] == '-') {
			i++
		}
		j := skipDigits(buf, i)
		if j == i {
			s.pos = j
			return false, s.fail("invalid number: digit expected in exponent")
		}
		i, integral = j, false
	}
	s.pos = i
	return integral, true
}

func (s *scanner) refStringValue() (span, bool) {
	sp, ok := s.refStringToken()
	if ok && s.blob != nil && int(sp.end-sp.start) >= s.blobMin {
		s.checkBlob(sp)
	}
	return sp, ok
}

// stringToken scans a string starting at the opening quote and returns the
// span of its content.
func (s *scanner) refStringToken() (span, bool) {
	buf := s.buf
	i := s.pos + 1
	sp := span{start: int32(i), kind: kindString}
	for i < len(buf) {
		if i+8 <= len(buf) {
			m := specialMask(binary.LittleEndian.Uint64(buf[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		c := buf[i]
		switch {
		case c == '"':
			sp.end = int32(i)
			s.pos = i + 1
			return sp, true
		case c == '\\':
			n, ok := escapeLen(buf[i:])
			if !ok {
				s.pos = i
				return sp, s.fail("invalid escape sequence in string")
			}
			sp.escaped = true
			i += n
		case c < 0x20:
			s.pos = i
			return sp, s.fail("control character in string")
		case c < 0x80:
			i++
		default:
			r, size := utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && size <= 1 {
				s.pos = i
				return sp, s.fail("invalid UTF-8 in string")
			}
			i += size
		}
	}
	s.pos = len(buf)
	return sp, s.fail("truncated: string not closed")
}

// document scans one complete JSON document whose top level must be an
// object; root is the envelope trie (nil for plain validation).
func (s *scanner) refDocument(root *pathNode) bool {
	s.refSkipWS()
	if s.pos >= len(s.buf) {
		return s.fail("value is empty")
	}
	if s.buf[s.pos] != '{' {
		if _, ok := s.refValue(loc{}); !ok {
			return false
		}
		s.pos = firstNonWS(s.buf)
		return s.fail("value is a JSON " + kindWord(s.buf[s.pos]) + ", not an object")
	}
	if _, ok := s.refValue(loc{node: root}); !ok {
		return false
	}
	s.refSkipWS()
	if s.pos != len(s.buf) {
		return s.fail("unexpected data after the top-level object")
	}
	return true
}

// FuzzWalkMatchesReference: the iterative walk and the recursive reference
// scanner agree on validity, error text and position, envelope spans,
// unknown keys, blob hits and data shape, for both profiles' tries.
func FuzzWalkMatchesReference(f *testing.F) {
	seedValues(f)
	var roots []*Engine // each built-in profile compiled for the scanner
	for _, n := range policy.BuiltinProfiles() {
		p, err := policy.LoadProfile(n)
		if err != nil {
			f.Fatal(err)
		}
		e, err := NewEngine(Options{Profile: p})
		if err != nil {
			f.Fatal(err)
		}
		roots = append(roots, e)
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		for _, e := range roots {
			p := struct {
				Name string
				blob policy.Blob
				root *pathNode
			}{e.p.Name, e.blob, e.root}
			var a, b scanner
			a.reset(value, &p.blob, blobMinimum(&p.blob))
			b.reset(value, &p.blob, blobMinimum(&p.blob))
			a.collect = true
			okA, okB := a.document(p.root), b.refDocument(p.root)
			if okA != okB || a.err != b.err || (a.err != "" && a.errPos != b.errPos) {
				t.Fatalf("%s: walk ok=%v %q@%d, reference ok=%v %q@%d", p.Name, okA, a.err, a.errPos, okB, b.err, b.errPos)
			}
			if !okA {
				continue
			}
			if a.fields != b.fields || !reflect.DeepEqual(a.unknown, b.unknown) || !reflect.DeepEqual(a.blobs, b.blobs) ||
				!reflect.DeepEqual(a.shape, b.shape) {
				t.Fatalf("%s: walk and reference disagree\nfields %v\n       %v\nunknown %v / %v\nblobs %v / %v\nshape %v / %v",
					p.Name, a.fields, b.fields, a.unknown, b.unknown, a.blobs, b.blobs, a.shape, b.shape)
			}
			if fingerprint(a.shape) != a.fp {
				t.Fatalf("%s: folded fingerprint %x, fingerprint of the entries %x", p.Name, a.fp, fingerprint(a.shape))
			}
		}
	})
}
