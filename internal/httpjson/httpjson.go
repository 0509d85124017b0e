// Package httpjson writes the JSON answers of eventwatch's HTTP API: one
// way for every package that serves JSON (lag, dead letters, readers), so
// that they agree on the content type and the indentation.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write answers with code and v as indented JSON, escaped as
// encoding/json escapes it (<, > and & as \u003c, \u003e, \u0026): the
// same bytes as the answers built from pre-encoded JSON (the shared
// groups page) for the same values.
func Write(w http.ResponseWriter, code int, v any) { write(w, code, v, true) }

// WriteUnescaped is Write leaving <, > and & as they are, for answers
// whose strings are meant to be read with them (the dead letters' error
// classes carry <id>, <n> and <value>).
func WriteUnescaped(w http.ResponseWriter, code int, v any) { write(w, code, v, false) }

func write(w http.ResponseWriter, code int, v any, escapeHTML bool) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(v)
}
