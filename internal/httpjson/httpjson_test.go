package httpjson

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(http.ResponseWriter, int, any)
		want  string
	}{
		{"escaped", Write, "{\n  \"class\": \"unknown field \\u003cname\\u003e \\u0026 more\"\n}\n"},
		{"unescaped", WriteUnescaped, "{\n  \"class\": \"unknown field <name> & more\"\n}\n"},
	} {
		rec := httptest.NewRecorder()
		c.write(rec, http.StatusNotFound, map[string]string{"class": "unknown field <name> & more"})
		if rec.Code != http.StatusNotFound {
			t.Fatalf("%s: status %d", c.name, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s: content type %q", c.name, ct)
		}
		if got := rec.Body.String(); got != c.want {
			t.Fatalf("%s: body %q, want %q", c.name, got, c.want)
		}
	}
}
