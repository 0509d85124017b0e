package audit

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// frame is one open container of the iterative walk.
type frame struct {
	l     loc   // context of the container's members
	elem  loc   // array element context
	index int32 // array element index
	start int32 // offset of '{' or '['
	role  int32 // envelope role of the container value, -1 for none
	obj   bool  // object (else array)
}

// walk scans one JSON value starting at s.pos in context l, iteratively
// (an explicit stack of at most maxDepth frames, so hostile nesting costs
// no recursion). It records envelope spans, unknown keys, blob hits and
// the data shape as it goes, and leaves s.pos after the value.
//
// It is one function on purpose: the hot loop keeps the index and buffer
// in registers, which the recursive version (scan_ref_test.go) could not.
// The labels are the states of the grammar:
//
//	value:  a value starts at i (in context cur)
//	closed: the container on top of the stack just closed at i
//	after:  a value ended; expect ',' or the container's closing bracket
//	key:    an object member starts: key, ':' and then a value
//
// Whitespace is skipped only where the expected byte did not come.
func (s *scanner) walk(l loc) bool {
	buf := s.buf
	i := s.pos
	depth := 0
	cur := l
	var c byte
	var sp span
	var msg string
	var fr *frame

value:
	if uint(i) >= uint(len(buf)) {
		return s.failAt(i, "truncated: value expected")
	}
	c = buf[i]
	sp = span{start: int32(i)}
	switch c {
	case ' ', '\t', '\n', '\r':
		i = skipWSAt(buf, i)
		goto value
	case '"':
		sp.kind = kindString
		sp.start = int32(i + 1)
		if i = skipPlain(buf, i+1); uint(i) >= uint(len(buf)) || buf[i] != '"' {
			i, sp.escaped, msg = scanString(buf, i)
			if msg != "" {
				return s.failAt(i, msg)
			}
		}
		sp.end = int32(i)
		i++
		if s.blob != nil && int(sp.end-sp.start) >= s.blobMin {
			s.depth = depth
			s.checkBlob(sp)
		}
	case '{', '[':
		if depth == maxDepth {
			return s.failAt(i, "nesting deeper than 64 levels")
		}
		kind := kindObject
		if c == '[' {
			kind = kindArray
		}
		if cur.dd != 0 { // a value inside data (dd > 0 implies a path hash)
			s.noteShapeAt(cur, kind, depth)
		}
		fr = &s.frames[depth]
		*fr = frame{obj: c == '{', l: cur, role: int32(roleOf(cur)), start: int32(i)}
		depth++
		i = skipWSAt(buf, i+1)
		if fr.obj {
			if uint(i) < uint(len(buf)) && buf[i] == '}' {
				i++
				goto closed
			}
			goto key
		}
		if uint(i) < uint(len(buf)) && buf[i] == ']' {
			i++
			goto closed
		}
		fr.elem = elemLoc(cur)
		s.stack[depth] = pathElem{end: -1}
		cur = fr.elem
		goto value
	case 't', 'f', 'n':
		sp.kind, i, msg = scanLiteral(buf, i, c)
		if msg != "" {
			return s.failAt(i, msg)
		}
		sp.end = int32(i)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		sp.kind = kindNumber
		i, sp.integral, msg = scanNumber(buf, i)
		if msg != "" {
			return s.failAt(i, msg)
		}
		sp.end = int32(i)
	default:
		return s.failAt(i, "invalid character "+quoteByte(c)+" where a value was expected")
	}
	if c != '{' && c != '[' {
		if cur.dd != 0 && cur.hash != 0 && s.nshape < maxShapeEntries {
			// noteShapeAt, inlined by hand for the common scalar case
			s.nshape++
			s.fp = (((s.fp ^ cur.hash) * fnvPrime) ^ uint64(sp.kind)) * fnvPrime
			if s.collect {
				s.recordShape(cur, sp.kind, depth)
			}
		}
		if cur.node != nil && cur.node.role >= 0 {
			s.fields[cur.node.role] = sp
		}
	}
	goto after

closed:
	depth--
	fr = &s.frames[depth]
	if fr.role >= 0 {
		kind := kindArray
		if fr.obj {
			kind = kindObject
		}
		s.fields[fr.role] = span{start: fr.start, end: int32(i), kind: kind}
	}

after:
	if depth == 0 {
		s.pos = i
		return true
	}
	if uint(i) >= uint(len(buf)) {
		if s.frames[depth-1].obj {
			return s.failAt(i, "truncated: object not closed")
		}
		return s.failAt(i, "truncated: array not closed")
	}
	fr = &s.frames[depth-1]
	c = buf[i]
	switch {
	case c == ',' && fr.obj:
		i++
		goto key
	case c == ',':
		i++
		fr.index++
		s.stack[depth] = pathElem{end: -1, index: fr.index}
		cur = fr.elem
		goto value
	case c == '}' && fr.obj, c == ']' && !fr.obj:
		i++
		goto closed
	case isWS(c):
		i = skipWSAt(buf, i)
		goto after
	case fr.obj:
		return s.failAt(i, "expected ',' or '}' after object member")
	}
	return s.failAt(i, "expected ',' or ']' after array element")

key:
	if uint(i) >= uint(len(buf)) {
		return s.failAt(i, "truncated: object key expected")
	}
	if buf[i] != '"' {
		if isWS(buf[i]) {
			i = skipWSAt(buf, i)
			goto key
		}
		return s.failAt(i, "object key must be a string")
	}
	{
		ks := i + 1
		var escaped bool
		if i = skipPlain(buf, ks); uint(i) >= uint(len(buf)) || buf[i] != '"' {
			i, escaped, msg = scanString(buf, i)
			if msg != "" {
				return s.failAt(i, msg)
			}
		}
		s.stack[depth] = pathElem{start: int32(ks), end: int32(i)}
		key := buf[ks:i]
		if escaped {
			key = s.unescapeScratch(key)
		}
		if i++; uint(i) >= uint(len(buf)) || buf[i] != ':' {
			i = skipWSAt(buf, i)
			if uint(i) >= uint(len(buf)) || buf[i] != ':' {
				return s.failAt(i, "expected ':' after object key")
			}
		}
		i++
		fr = &s.frames[depth-1]
		cur = loc{}
		switch {
		case fr.l.node != nil:
			cur = fr.l.childLoc(s, key)
		case fr.l.hash != 0 && fr.l.dd < maxShapeDepth:
			// inside data: only the path hash (childLoc's second half)
			cur = loc{hash: hashBytes(hashByte(fr.l.hash, '.'), key), arr: fr.l.arr, dd: fr.l.dd + 1}
		}
	}
	goto value
}

func (s *scanner) failAt(i int, msg string) bool {
	s.pos = i
	return s.fail(msg)
}

func roleOf(l loc) int {
	if l.node != nil {
		return l.node.role
	}
	return -1
}

// elemLoc is the context of the elements of an array in context l.
func elemLoc(l loc) loc {
	if l.hash == 0 || l.dd >= maxShapeDepth {
		return loc{}
	}
	return loc{hash: hashByte(hashByte(l.hash, '['), ']'), arr: true, dd: l.dd + 1}
}

// noteShapeAt folds a data value into the shape fingerprint and, when
// collecting, records it for drift (depth is the path length). The check
// and the fold are small enough to inline; recording is out of line.
func (s *scanner) noteShapeAt(l loc, kind byte, depth int) {
	if l.hash == 0 || l.dd == 0 || s.nshape >= maxShapeEntries {
		return
	}
	s.nshape++
	s.fp = (((s.fp ^ l.hash) * fnvPrime) ^ uint64(kind)) * fnvPrime
	if s.collect {
		s.recordShape(l, kind, depth)
	}
}

func (s *scanner) recordShape(l loc, kind byte, depth int) {
	s.shape = append(s.shape, shapeEntry{hash: l.hash, kind: kind, inArray: l.arr})
	if s.wantPaths {
		s.paths = append(s.paths, s.pathString(depth, true))
	}
}

// isWS reports whether c is JSON whitespace. The walk tests for
// whitespace only where the expected byte did not come (compact JSON has
// none).
func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// skipWSAt returns the index of the first non-whitespace byte at or after
// i. Every JSON whitespace byte is <= ' ', so one comparison settles the
// common case (compact JSON).
func skipWSAt(buf []byte, i int) int {
	for i < len(buf) && buf[i] <= ' ' && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r') {
		i++
	}
	return i
}

// skipPlain returns the index of the first byte at or after i that needs
// attention in a string (see specialMask), or where fewer than eight bytes
// remain; the walk handles the common case (a closing quote) inline and
// leaves the rest to scanString.
func skipPlain(buf []byte, i int) int {
	for b := buf[i:]; len(b) >= 8; b, i = b[8:], i+8 {
		if m := specialMask(binary.LittleEndian.Uint64(b)); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	return i
}

// scanString scans string content from i (after the opening quote) and
// returns the index of the closing quote, whether it had escapes, and a
// problem ("" when valid; the index then points at the bad byte).
func scanString(buf []byte, i int) (int, bool, string) {
	escaped := false
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
			return i, escaped, ""
		case c == '\\':
			n, ok := escapeLen(buf[i:])
			if !ok {
				return i, escaped, "invalid escape sequence in string"
			}
			escaped = true
			i += n
		case c < 0x20:
			return i, escaped, "control character in string"
		case c < 0x80:
			i++
		default:
			r, size := utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && size <= 1 {
				return i, escaped, "invalid UTF-8 in string"
			}
			i += size
		}
	}
	return len(buf), escaped, "truncated: string not closed"
}

// scanNumber scans a JSON number at i and returns the index after it and
// whether it is integral.
func scanNumber(buf []byte, i int) (int, bool, string) {
	if buf[i] == '-' {
		i++
	}
	switch {
	case i < len(buf) && buf[i] == '0':
		i++
	case i < len(buf) && buf[i] >= '1' && buf[i] <= '9':
		i = skipDigits(buf, i+1)
	default:
		return i, false, "invalid number"
	}
	integral := true
	if i < len(buf) && buf[i] == '.' {
		j := skipDigits(buf, i+1)
		if j == i+1 {
			return j, false, "invalid number: digit expected after '.'"
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
			return j, false, "invalid number: digit expected in exponent"
		}
		i, integral = j, false
	}
	return i, integral, ""
}

// scanLiteral scans true, false or null at i.
func scanLiteral(buf []byte, i int, c byte) (byte, int, string) {
	word, kind := "null", kindNull
	switch c {
	case 't':
		word, kind = "true", kindBool
	case 'f':
		word, kind = "false", kindBool
	}
	if len(buf)-i < len(word) || string(buf[i:i+len(word)]) != word {
		return kind, i, "invalid literal, expected " + word
	}
	return kind, i + len(word), ""
}
