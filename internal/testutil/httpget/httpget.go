// Package httpget is the tests' HTTP client: GET a URL with a deadline and
// return the status and body, or decode a JSON body. A transport error is
// status 0 with the error text as body, so a test can poll an address that
// is not serving yet.
package httpget

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// Timeout bounds one request.
const Timeout = 10 * time.Second

// Get returns the status and body of GET url (headers given as name,
// value pairs). A transport error returns 0 and the error text.
func Get(t testing.TB, url string, header ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err.Error()
	}
	return resp.StatusCode, string(b)
}

// JSON GETs url, fails the test unless the status is want, decodes the
// body into v and returns the body.
func JSON(t testing.TB, url string, want int, v any) string {
	t.Helper()
	code, body := Get(t, url)
	if code != want {
		t.Fatalf("GET %s = %d, want %d: %s", url, code, want, body)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: decode: %v\n%s", url, err, body)
		}
	}
	return body
}
