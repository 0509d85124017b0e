package audit

import "github.com/eventwatch/eventwatch/internal/policy"

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
	dd   int32     // depth below data
	arr  bool      // under an array inside data
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
	frames  [maxDepth]frame
	blob    *policy.Blob
	blobMin int
	scratch []byte
	// wantPaths makes the walk record each shape entry's path in paths
	// (drift learning).
	wantPaths bool
	paths     []string
	// shapeOn makes the walk fingerprint the data shape (drift is enabled);
	// collect also keeps the entries (learning, or a fingerprint miss).
	shapeOn bool
	collect bool
	fp      uint64 // fingerprint of the data shape so far
	nshape  int    // data values folded into fp (at most maxShapeEntries)
}

func (s *scanner) reset(buf []byte, blob *policy.Blob, blobMin int) {
	s.buf, s.pos, s.depth, s.err, s.errPos = buf, 0, 0, "", 0
	s.fields = [numScanRoles]span{}
	s.unknown, s.blobs, s.shape = s.unknown[:0], s.blobs[:0], s.shape[:0]
	s.blob, s.blobMin, s.wantPaths, s.shapeOn = blob, blobMin, false, true
	s.collect, s.fp, s.nshape = false, fnvOffset, 0
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
	i := skipWSAt(s.buf, 0)
	if i >= len(s.buf) {
		return s.failAt(i, "value is empty")
	}
	s.pos = i
	if s.buf[i] != '{' {
		if !s.walk(loc{}) {
			return false
		}
		return s.failAt(i, "value is a JSON "+kindWord(s.buf[i])+", not an object")
	}
	if !s.walk(loc{node: root}) {
		return false
	}
	if i = skipWSAt(s.buf, s.pos); i != len(s.buf) {
		return s.failAt(i, "unexpected data after the top-level object")
	}
	return true
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

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}

// childLoc computes the context of the value of member key.
func (l loc) childLoc(s *scanner, key []byte) loc {
	var c loc
	if l.node != nil {
		c.node = l.node.child(key)
		if c.node == nil && l.node.strict && len(l.node.children) > 0 {
			s.unknown = append(s.unknown, unknownRef{parent: l.node, key: string(key)})
		}
		if c.node != nil && c.node.role == roleData && s.shapeOn {
			c.hash = fnvOffset
		}
	}
	if l.hash != 0 && l.dd < maxShapeDepth {
		c.hash, c.arr, c.dd = hashBytes(hashByte(l.hash, '.'), key), l.arr, l.dd+1
	}
	return c
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipDigits returns the index of the first non-digit at or after i.
func skipDigits(buf []byte, i int) int {
	for i < len(buf) && buf[i] >= '0' && buf[i] <= '9' {
		i++
	}
	return i
}

// specialMask flags (in each byte's high bit) the bytes of x that need
// attention in a string: a quote, a backslash, a control character or a
// non-ASCII byte ((x-0x20)&^x | x, a control or high byte, simplifies to
// (x-0x20) | x). The lowest flagged byte is exact (borrows only run
// upwards), so TrailingZeros64(mask)/8 is the first special byte.
func specialMask(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (lo * '"')
	bslash := x ^ (lo * '\\')
	return ((quote-lo)&^quote | (bslash-lo)&^bslash | (x - lo*0x20) | x) & hi
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
func (s *scanner) shapeWithPaths(data []byte) ([]shapeEntry, []string) {
	sub := scanner{buf: data, wantPaths: true, collect: true, fp: fnvOffset}
	sub.walk(loc{hash: fnvOffset})
	return sub.shape, sub.paths
}

// collectShape re-walks a data object (already validated) with this
// scanner, keeping every shape entry, and restores the envelope state the
// rules still read. Used when the fingerprint of the first walk was not
// known clean.
func (s *scanner) collectShape(data []byte) []shapeEntry {
	buf, pos, blob, depth := s.buf, s.pos, s.blob, s.depth
	s.buf, s.pos, s.blob = data, 0, nil
	s.shape, s.collect, s.fp, s.nshape = s.shape[:0], true, fnvOffset, 0
	s.walk(loc{hash: fnvOffset})
	s.collect = false
	s.buf, s.pos, s.blob, s.depth = buf, pos, blob, depth
	return s.shape
}
