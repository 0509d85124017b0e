package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventwatch/eventwatch/internal/store"
)

// TestUnknownNamesAre404 asks every filtered endpoint for a team, service,
// rule and topic that do not exist (typos of known ones, and names like
// nothing known): each answers 404 with the nearest known names, never an
// empty 200. Known names, a service only just published (not yet in the
// store) and a team's own service pass.
func TestUnknownNamesAre404(t *testing.T) {
	a, srv, _ := violationServer(t) // team commerce owns orders and billing
	observeAll(a, dataset(7, 200, a.now()))
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind, name string
		nearest    []string
		msg        string
	}
	cases := map[string]want{
		"team=comerce":                   {"team", "comerce", []string{"commerce"}, `unknown team "comerce"; did you mean commerce?`},
		"team=nosuchteam":                {"team", "nosuchteam", nil, `unknown team "nosuchteam"; known teams: commerce, shipping, unknown`},
		"service=ordres":                 {"service", "ordres", []string{"orders"}, `unknown service "ordres"; did you mean orders?`},
		"service=nosuch":                 {"service", "nosuch", nil, `unknown service "nosuch"; known services: billing, orders, shipping, unknown`},
		"rule=no.such.rule":              {"rule", "no.such.rule", nil, `unknown rule "no.such.rule"; known rules include`},
		"rule=key.mising":                {"rule", "key.mising", []string{"key.missing"}, `unknown rule "key.mising"; did you mean key.missing?`},
		"topic=orders.event":             {"topic", "orders.event", []string{"orders.events"}, `unknown topic "orders.event"; did you mean orders.events`},
		"team=commerce&service=shipping": {"", "", nil, `service "shipping" is not one of team commerce's services (billing, orders)`},
	}
	for q, w := range cases {
		paths := []string{"/api/v1/violations?", "/api/v1/violations/stream?"}
		if !strings.HasPrefix(q, "rule=") && !strings.HasPrefix(q, "topic=") {
			paths = append(paths, "/api/v1/reports/weekly?format=html&")
		}
		for _, p := range paths {
			resp, err := http.Get(srv.URL + p + q)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Error   string   `json:"error"`
				Kind    string   `json:"kind"`
				Name    string   `json:"name"`
				Nearest []string `json:"nearest"`
			}
			derr := json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || derr != nil || !strings.HasPrefix(body.Error, w.msg) ||
				body.Kind != w.kind || body.Name != w.name || strings.Join(body.Nearest, ",") != strings.Join(w.nearest, ",") {
				t.Errorf("%s%s: %d %+v (%v), want 404 %+v", p, q, resp.StatusCode, body, derr, w)
			}
		}
	}
	a.Publish([]store.Example{{Service: "brand-new", Topic: "brand.new", Rule: "key.missing"}})
	for _, q := range []string{"team=commerce&service=orders", "rule=key.missing&topic=orders.events", "service=brand-new&topic=brand.new", "team=shipping", "service=unknown"} {
		var page store.ExamplePage
		if code := getJSON(t, srv.URL+"/api/v1/violations?"+q, &page); code != http.StatusOK {
			t.Errorf("%s: %d, want 200", q, code)
		}
	}
	resp, err := http.Get(srv.URL + "/api/v1/reports/weekly?team=commerce&service=billing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a team's own service: %d", resp.StatusCode)
	}
}
