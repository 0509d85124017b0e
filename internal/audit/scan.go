package audit

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// maxDepth caps object/array nesting. Deeper values are reported as
// envelope.invalid_json instead of being walked (no event envelope nests
// this deep, and the cap bounds the scanner's stack).
const maxDepth = 64

// maxShapeDepth caps how deep below data drift learning records paths.
const maxShapeDepth = 8

// maxShapeEntries caps the data paths recorded per event for drift.
const maxShapeEntries = 256

// Extra trie roles used when scanning a dead-letter wrapper.
const (
	roleDLQOriginal = numRoles + iota
	roleDLQError
	numScanRoles
)

// span is where a scanned value sits in the buffer. For strings it is the
// content between the quotes; for other kinds the whole value.
type span struct {
	start, end int32
	kind       byte
	escaped    bool // string contains escape sequences
	integral   bool // number has no fraction or exponent
}

// pathElem is one step of the current path: a key span or an array index.
type pathElem struct {
	start, end int32 // key bytes; end < 0 marks an array index
	index      int32
}

// shapeEntry is one data path seen in an event, for drift learning.
type shapeEntry struct {
	hash    uint64
	kind    byte
	inArray bool
	path    string // dotted path, recorded only while learning (scanner.wantPaths)
}

// unknownRef is an unknown envelope field found while scanning.
type unknownRef struct {
	parent *pathNode
	key    string
}

// blobHit is a string value that looks like a blob.
type blobHit struct {
	path   string
	reason string
	size   int
}

// loc is the scanning context of one value.
type loc struct {
	node *pathNode // envelope trie node, nil outside the envelope
	hash uint64    // data path hash, 0 outside data
	arr  bool      // under an array inside data
	dd   int       // depth below data
}

// scanner is a single-pass JSON validator and envelope extractor. It checks
// the full grammar and UTF-8 of strings, caps nesting, records the spans of
// envelope fields, unknown envelope keys, blob-like strings and the data
// shape. It never allocates on a compliant event except when a hit is
// recorded.
type scanner struct {
	buf     []byte
	pos     int
	depth   int
	err     string
	errPos  int
	fields  [numScanRoles]span
	unknown []unknownRef
	blobs   []blobHit
	shape   []shapeEntry
	stack   [maxDepth + 1]pathElem
	blob    *blobParams
	blobMin int
	scratch []byte
	// wantPaths makes noteShape record path strings (drift learning).
	wantPaths bool
}

func (s *scanner) reset(buf []byte, blob *blobParams, blobMin int) {
	s.buf, s.pos, s.depth, s.err, s.errPos = buf, 0, 0, "", 0
	s.fields = [numScanRoles]span{}
	s.unknown, s.blobs, s.shape = s.unknown[:0], s.blobs[:0], s.shape[:0]
	s.blob, s.blobMin, s.wantPaths = blob, blobMin, false
}

func (s *scanner) fail(msg string) bool {
	if s.err == "" {
		s.err, s.errPos = msg, s.pos
	}
	return false
}

// document scans one complete JSON document whose top level must be an
// object; root is the envelope trie (nil for plain validation).
func (s *scanner) document(root *pathNode) bool {
	s.skipWS()
	if s.pos >= len(s.buf) {
		return s.fail("value is empty")
	}
	if s.buf[s.pos] != '{' {
		if _, ok := s.value(loc{}); !ok {
			return false
		}
		s.pos = firstNonWS(s.buf)
		return s.fail("value is a JSON " + kindWord(s.buf[s.pos]) + ", not an object")
	}
	if _, ok := s.value(loc{node: root}); !ok {
		return false
	}
	s.skipWS()
	if s.pos != len(s.buf) {
		return s.fail("unexpected data after the top-level object")
	}
	return true
}

func firstNonWS(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return 0
}

func kindWord(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func (s *scanner) skipWS() {
	i, buf := s.pos, s.buf
	for i < len(buf) && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r') {
		i++
	}
	s.pos = i
}

func (s *scanner) value(l loc) (span, bool) {
	if s.pos >= len(s.buf) {
		return span{}, s.fail("truncated: value expected")
	}
	start := s.pos
	var sp span
	var ok bool
	switch c := s.buf[s.pos]; c {
	case '"':
		if l.hash != 0 {
			s.noteShape(l, kindString)
		}
		return s.stringValue()
	case '{':
		if l.hash != 0 {
			s.noteShape(l, kindObject)
		}
		sp.kind, ok = kindObject, s.object(l)
	case '[':
		if l.hash != 0 {
			s.noteShape(l, kindArray)
		}
		sp.kind, ok = kindArray, s.array(l)
	case 't', 'f', 'n':
		sp.kind, ok = s.literalValue(c)
		if l.hash != 0 {
			s.noteShape(l, sp.kind)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if l.hash != 0 {
			s.noteShape(l, kindNumber)
		}
		sp.kind = kindNumber
		sp.integral, ok = s.number()
	default:
		return span{}, s.fail("invalid character " + quoteByte(c) + " where a value was expected")
	}
	sp.start, sp.end = int32(start), int32(s.pos)
	return sp, ok
}

func (s *scanner) literalValue(c byte) (byte, bool) {
	switch c {
	case 't':
		return kindBool, s.literal("true")
	case 'f':
		return kindBool, s.literal("false")
	}
	return kindNull, s.literal("null")
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}

func (s *scanner) noteShape(l loc, kind byte) {
	if l.dd == 0 || len(s.shape) >= maxShapeEntries {
		return
	}
	e := shapeEntry{hash: l.hash, kind: kind, inArray: l.arr}
	if s.wantPaths {
		e.path = s.pathString(s.depth, true)
	}
	s.shape = append(s.shape, e)
}

func (s *scanner) enter() bool {
	s.depth++
	if s.depth > maxDepth {
		return s.fail("nesting deeper than 64 levels")
	}
	return true
}

func (s *scanner) object(l loc) bool {
	s.pos++
	if !s.enter() {
		return false
	}
	s.skipWS()
	if s.pos < len(s.buf) && s.buf[s.pos] == '}' {
		s.pos++
		s.depth--
		return true
	}
	for {
		if !s.member(l) {
			return false
		}
		s.skipWS()
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

func (s *scanner) member(l loc) bool {
	s.skipWS()
	if s.pos >= len(s.buf) {
		return s.fail("truncated: object key expected")
	}
	if s.buf[s.pos] != '"' {
		return s.fail("object key must be a string")
	}
	ks, ok := s.stringToken()
	if !ok {
		return false
	}
	key := s.buf[ks.start:ks.end]
	if ks.escaped {
		key = s.unescapeScratch(key)
	}
	s.skipWS()
	if s.pos >= len(s.buf) || s.buf[s.pos] != ':' {
		return s.fail("expected ':' after object key")
	}
	s.pos++
	s.skipWS()
	var child loc
	if l.node != nil || l.hash != 0 {
		child = l.childLoc(s, key)
	}
	s.stack[s.depth] = pathElem{start: ks.start, end: ks.end}
	sp, ok := s.value(child)
	if ok && child.node != nil && child.node.role >= 0 {
		s.fields[child.node.role] = sp
	}
	return ok
}

// childLoc computes the context of the value of member key.
func (l loc) childLoc(s *scanner, key []byte) loc {
	var c loc
	if l.node != nil {
		c.node = l.node.child(key)
		if c.node == nil && l.node.strict && len(l.node.children) > 0 {
			s.unknown = append(s.unknown, unknownRef{parent: l.node, key: string(key)})
		}
		if c.node != nil && c.node.role == roleData {
			c.hash = fnvOffset
		}
	}
	if l.hash != 0 && l.dd < maxShapeDepth {
		c.hash, c.arr, c.dd = hashBytes(hashByte(l.hash, '.'), key), l.arr, l.dd+1
	}
	return c
}

func (s *scanner) array(l loc) bool {
	s.pos++
	if !s.enter() {
		return false
	}
	s.skipWS()
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
		s.skipWS()
		s.stack[s.depth] = pathElem{end: -1, index: i}
		if _, ok := s.value(el); !ok {
			return false
		}
		s.skipWS()
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

func (s *scanner) literal(word string) bool {
	if len(s.buf)-s.pos < len(word) || string(s.buf[s.pos:s.pos+len(word)]) != word {
		return s.fail("invalid literal, expected " + word)
	}
	s.pos += len(word)
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipDigits returns the index of the first non-digit at or after i.
func skipDigits(buf []byte, i int) int {
	for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' {
		i++
	}
	return i
}

func (s *scanner) number() (integral, ok bool) {
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

func (s *scanner) stringValue() (span, bool) {
	sp, ok := s.stringToken()
	if ok && s.blob != nil && int(sp.end-sp.start) >= s.blobMin {
		s.checkBlob(sp)
	}
	return sp, ok
}

// stringToken scans a string starting at the opening quote and returns the
// span of its content.
func (s *scanner) stringToken() (span, bool) {
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

// specialMask flags (in each byte's high bit) the bytes of x that need
// attention in a string: a quote, a backslash, a control character or a
// non-ASCII byte. The lowest flagged byte is exact (borrows only run
// upwards), so TrailingZeros64(mask)/8 is the first special byte.
func specialMask(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (lo * '"')
	bslash := x ^ (lo * '\\')
	return ((quote-lo)&^quote | (bslash-lo)&^bslash | (x-lo*0x20)&^x | x) & hi
}

func escapeLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
		if len(b) < 6 {
			return 0, false
		}
		for _, h := range b[2:6] {
			if !isHex(h) {
				return 0, false
			}
		}
		return 6, true
	}
	return 0, false
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// unescapeScratch decodes an escaped string into the scanner's scratch
// buffer (valid until the next call).
func (s *scanner) unescapeScratch(raw []byte) []byte {
	s.scratch = appendUnescaped(s.scratch[:0], raw)
	return s.scratch
}

// pathString renders the current path up to depth d, as
// "data.items[2].body" (or "data.items[].body" when generic).
func (s *scanner) pathString(d int, generic bool) string {
	var b []byte
	for i := 1; i <= d; i++ {
		e := s.stack[i]
		if e.end < 0 {
			b = append(b, '[')
			if !generic {
				b = appendInt(b, int(e.index))
			}
			b = append(b, ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = appendUnescaped(b, s.buf[e.start:e.end])
	}
	return string(b)
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// shapeWithPaths re-scans a data object recording path strings, for drift
// learning. The scanner's envelope state is kept.
func (s *scanner) shapeWithPaths(data []byte) []shapeEntry {
	sub := scanner{buf: data, wantPaths: true}
	sub.value(loc{hash: fnvOffset})
	return sub.shape
}
