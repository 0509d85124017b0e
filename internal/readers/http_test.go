package readers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTypesFilterUnknownIs404: a typo in ?type= or ?version= is a 404
// naming the nearest known names, never an empty 200 that reads as
// "nobody produces or reads it"; a known type and version answer 200.
func TestTypesFilterUnknownIs404(t *testing.T) {
	t.Parallel()
	x := NewIndex(nil)
	feed(x, "billing.invoice", 0, 0, "billing.invoice.issued", "1.0", "billing-legacy", t0)
	feed(x, "billing.invoice", 1, 0, "billing.invoice.issued", "2.0", "billing-service", t0)
	feed(x, "user.account", 0, 0, "user.account.created", "1.0", "user-service", t0)
	e := estateOf(x, t0, 0)
	mux := http.NewServeMux()
	Routes(mux, func(context.Context) (Estate, error) { return e, nil })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	for _, c := range []struct {
		query   string
		code    int
		nearest string
		types   int
	}{
		{"", http.StatusOK, "", 3},
		{"?type=billing.invoice.issued", http.StatusOK, "", 2},
		{"?type=billing.invoice.issued&version=v2", http.StatusOK, "", 1},
		{"?type=billing.invoice.isued", http.StatusNotFound, "billing.invoice.issued", 0},
		{"?type=billing.invoice.issued&version=3.0", http.StatusNotFound, "", 0},
	} {
		resp, err := http.Get(srv.URL + "/api/v1/types" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error   string        `json:"error"`
			Nearest []string      `json:"nearest"`
			Known   []string      `json:"known"`
			Types   []TypeVersion `json:"types"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if resp.StatusCode != c.code {
			t.Fatalf("%s: status %d, want %d (%+v)", c.query, resp.StatusCode, c.code, body)
		}
		if c.code == http.StatusOK {
			if len(body.Types) != c.types {
				t.Errorf("%s: %d types, want %d", c.query, len(body.Types), c.types)
			}
			continue
		}
		if body.Error == "" {
			t.Errorf("%s: 404 without an error text", c.query)
		}
		if c.nearest != "" && (len(body.Nearest) == 0 || body.Nearest[0] != c.nearest) {
			t.Errorf("%s: nearest %v, want %s first (%s)", c.query, body.Nearest, c.nearest, body.Error)
		}
		if c.nearest == "" && len(body.Nearest)+len(body.Known) == 0 {
			t.Errorf("%s: names no known version: %s", c.query, body.Error)
		}
	}
}
