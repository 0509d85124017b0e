// Package httpjson writes the JSON answers of eventwatch's HTTP API: one
// way for every package that serves JSON (lag, dead letters, readers), so
// that they agree on the content type, the indentation and the escaping.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write answers with code and v as indented JSON. HTML is not escaped:
// the answers are JSON for programs and people at a terminal (dead
// letters' error classes carry <id>, <n> and <value>), never HTML.
func Write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
