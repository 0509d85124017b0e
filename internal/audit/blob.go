package audit

import (
	"bytes"
	"path"
	"strconv"

	"github.com/eventwatch/eventwatch/internal/policy"
)

// base64Char marks the characters of the standard and URL-safe base64
// alphabets, including padding.
var base64Char = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_") {
		t[c] = true
	}
	return t
}()

// blobMinimum is the shortest string worth a blob check under b (0 when
// blob detection is disabled).
func blobMinimum(b *policy.Blob) int {
	m := 0
	for _, v := range []int{b.MaxTextBytes + 1, b.MinBase64Bytes, b.MinDataURIBytes} {
		if v > 0 && (m == 0 || v < m) {
			m = v
		}
	}
	return m
}

// classifyBlob says why a string looks like a blob, or "" when it does not.
// raw is the string content as written (escapes undecoded).
func classifyBlob(b *policy.Blob, raw []byte) string {
	n := len(raw)
	if b.MinDataURIBytes > 0 && n >= b.MinDataURIBytes && bytes.HasPrefix(raw, []byte("data:")) &&
		bytes.IndexByte(raw[:min(n, 256)], ',') > 0 {
		return "an inline data: URI of " + strconv.Itoa(n) + " bytes"
	}
	if b.MinBase64Bytes > 0 && n >= b.MinBase64Bytes && looksBase64(raw) {
		return "base64-encoded content of " + strconv.Itoa(n) + " bytes"
	}
	if b.MaxTextBytes > 0 && n > b.MaxTextBytes {
		return "free text of " + strconv.Itoa(n) + " bytes (limit " + strconv.Itoa(b.MaxTextBytes) + ")"
	}
	return ""
}

// looksBase64 reports whether raw is one unbroken run of base64 characters
// with both letters and digits (so long identifiers of one class and
// natural text do not match).
func looksBase64(raw []byte) bool {
	var upper, lower, digit bool
	for _, c := range raw {
		if !base64Char[c] {
			return false
		}
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}

// checkBlob records a blob hit for the string at sp when it looks like one
// and its path is not ignored.
func (s *scanner) checkBlob(sp span) {
	reason := classifyBlob(s.blob, s.buf[sp.start:sp.end])
	if reason == "" || len(s.blobs) >= 8 {
		return
	}
	p := s.pathString(s.depth, false)
	for _, g := range s.blob.IgnorePaths {
		if ok, _ := path.Match(g, p); ok {
			return
		}
	}
	s.blobs = append(s.blobs, blobHit{path: p, reason: reason, size: int(sp.end - sp.start)})
}
