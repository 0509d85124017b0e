package audit

import (
	"encoding/binary"
	"path"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func hashByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime }

// hashBytes mixes b into h eight bytes at a time (path identity for drift;
// not FNV-compatible, only stable within one process). A tail shorter than
// eight bytes is read as one word when b's capacity allows (b is usually a
// key inside the event buffer), so short keys cost one multiply.
func hashBytes(h uint64, b []byte) uint64 {
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * fnvPrime
		h ^= h >> 29
		b = b[8:]
	}
	n := len(b)
	if n == 0 {
		return h
	}
	var w uint64
	if cap(b) >= 8 {
		w = binary.LittleEndian.Uint64(b[:8]) & (1<<(8*uint(n)) - 1)
	} else {
		for i := n - 1; i >= 0; i-- {
			w = w<<8 | uint64(b[i])
		}
	}
	h = (h ^ w ^ uint64(n)<<59) * fnvPrime
	return h ^ h>>29
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// appendUnescaped appends the decoded form of a JSON string's content
// (already validated by the scanner) to dst.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return dst
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			var r rune
			r, i = decodeU(raw, i)
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// decodeU decodes \uXXXX (and a following low surrogate) at raw[i:], and
// returns the rune and the index after it.
func decodeU(raw []byte, i int) (rune, int) {
	r1 := hex4(raw, i+2)
	if r1 < 0 {
		return utf8.RuneError, len(raw)
	}
	if utf16.IsSurrogate(r1) && i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
		if r2 := hex4(raw, i+8); r2 >= 0 {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				return r, i + 12
			}
		}
	}
	if utf16.IsSurrogate(r1) {
		return utf8.RuneError, i + 6
	}
	return r1, i + 6
}

func hex4(b []byte, i int) rune {
	if i+4 > len(b) {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(v)
	}
	return r
}

// hexDigit marks the hexadecimal digits.
var hexDigit = func() (t [256]bool) {
	for _, c := range []byte("0123456789abcdefABCDEF") {
		t[c] = true
	}
	return t
}()

// isUUID reports whether s is a canonical 8-4-4-4-12 hex UUID.
func isUUID[T string | []byte](s T) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	// The 32 hex digits as four 8-byte words (the last two overlap).
	a := load8(s, 0)
	b := load4(s, 9) | load4(s, 14)<<32
	c := load4(s, 19) | load4(s, 24)<<32
	d := load8(s, 28)
	return allHex(a) && allHex(b) && allHex(c) && allHex(d)
}

// load8 and load4 read little-endian words from a string or byte slice.
func load8[T string | []byte](s T, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

func load4[T string | []byte](s T, i int) uint64 {
	_ = s[i+3]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24
}

// allHex reports whether every byte of x is an ASCII hex digit (SWAR: on
// 7-bit bytes, adding 0x80-lo sets a byte's high bit iff it is >= lo, and
// no carry crosses bytes).
func allHex(x uint64) bool {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	if x&high != 0 {
		return false
	}
	y := x | ones*0x20 // fold A-F onto a-f (only A-F and a-f land there)
	ge := func(v, lo uint64) uint64 { return (v + ones*(0x80-lo)) & high }
	digit := ge(x, '0') &^ ge(x, '9'+1)
	letter := ge(y, 'a') &^ ge(y, 'f'+1)
	return digit|letter == high
}

// isUUIDv4 reports whether s is a canonical RFC 4122 version 4 UUID.
func isUUIDv4[T string | []byte](s T) bool {
	if !isUUID(s) || s[14] != '4' {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

// matchGlob reports whether name matches the glob (path.Match syntax; a
// malformed glob matches nothing, and globs are validated at load time).
func matchGlob(glob, name string) bool {
	ok, _ := path.Match(glob, name)
	return ok
}

// joinPath joins a dotted path and a key ("" prefix: the key alone).
func joinPath(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}
