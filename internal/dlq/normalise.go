package dlq

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxMessage bounds a normalised message (runes), so that a triage key
// stays short whatever an exception says.
const maxMessage = 160

var (
	reQuoted = regexp.MustCompile(`'[^']*'|"[^"]*"|` + "`[^`]*`")
	reEmail  = regexp.MustCompile(`[\w.+-]+@[\w-]+(\.[\w-]+)+`)
	reUUID   = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	reHex    = regexp.MustCompile(`(?i)\b(0x)?[0-9a-f]*[0-9][0-9a-f]*\b`)
	reIdent  = regexp.MustCompile(`\b[A-Za-z]+[-_:][A-Za-z0-9]*[0-9][A-Za-z0-9_-]*\b`)
	reSpaces = regexp.MustCompile(`\s+`)
)

// Normalise turns an error message into a triage key: its first line,
// quoted values as <value>, e-mail addresses as <value>, UUIDs as <id>,
// ids that mix letters and digits (book-1a2b, user_42) as <id>, numbers
// and hex runs as <n>, runs of space as one, at most 160 runes. Messages
// that differ only in the ids or values they name fall into one class,
// and no payload value survives a quoted or numeric mention.
func Normalise(msg string) string {
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = msg[:i]
	}
	msg = reQuoted.ReplaceAllString(msg, "<value>")
	msg = reEmail.ReplaceAllString(msg, "<value>")
	msg = reUUID.ReplaceAllString(msg, "<id>")
	msg = reIdent.ReplaceAllString(msg, "<id>")
	msg = reHex.ReplaceAllStringFunc(msg, hexOrNumber)
	msg = strings.TrimSpace(reSpaces.ReplaceAllString(msg, " "))
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "?")
	}
	if utf8.RuneCountInString(msg) > maxMessage {
		msg = string([]rune(msg)[:maxMessage]) + "…"
	}
	return msg
}

// hexOrNumber replaces a token made of digits (and hex letters) unless it
// is a plain word that happens to be hex-lettered with one digit in a
// known shape (kept short: v1, utf8 stay).
func hexOrNumber(tok string) string {
	if len(tok) <= 2 && !isDigits(tok) {
		return tok
	}
	return "<n>"
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
