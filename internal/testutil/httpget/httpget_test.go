package httpget

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGetAndJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer x" && r.URL.Path == "/secret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"n":3}`)
	}))
	defer srv.Close()
	if code, body := Get(t, srv.URL+"/secret"); code != 401 || body != "no\n" {
		t.Fatalf("without header: %d %q", code, body)
	}
	if code, _ := Get(t, srv.URL+"/secret", "Authorization", "Bearer x"); code != 200 {
		t.Fatalf("with header: %d", code)
	}
	var v struct{ N int }
	JSON(t, srv.URL+"/", 200, &v)
	if v.N != 3 {
		t.Fatalf("decoded %+v", v)
	}
	if code, body := Get(t, "http://127.0.0.1:1/"); code != 0 || body == "" {
		t.Fatalf("unreachable: %d %q", code, body)
	}
}
