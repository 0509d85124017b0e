package daemon

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequireToken(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "in") })
	h := RequireToken("s3cret-token", ok)
	for _, tt := range []struct {
		header string
		code   int
	}{{"", 401}, {"Bearer wrong", 401}, {"Bearer s3cret-token", 200}, {"bearer s3cret-token", 200}, {"Basic s3cret-token", 401}, {"Bearer s3cret-token2", 401}} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/reports", nil)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.code {
			t.Errorf("%q: %d, want %d", tt.header, rec.Code, tt.code)
		}
		if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("401 without challenge")
		}
	}
	if RequireToken("", ok) == nil {
		t.Error("empty token must pass through")
	}
}
