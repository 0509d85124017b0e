package daemon

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// RequireToken wraps next so that requests must carry
// "Authorization: Bearer <token>" (http.token / http.token_file). The comparison is constant-time. An empty
// token disables the check (next is returned as is). A missing or wrong
// token gets 401 with a WWW-Authenticate challenge.
//
// also are further tokens accepted as well (the dlq.replay admin
// credential reads everything the read token reads); empty ones are
// ignored.
func RequireToken(token string, next http.Handler, also ...string) http.Handler {
	if token == "" {
		return next
	}
	wants := [][]byte{[]byte(token)}
	for _, t := range also {
		if t != "" {
			wants = append(wants, []byte(t))
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || !anyEqual([]byte(got), wants) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="eventwatch"`)
			http.Error(w, "missing or invalid bearer token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}

// anyEqual compares got with every want in constant time.
func anyEqual(got []byte, wants [][]byte) bool {
	ok := 0
	for _, w := range wants {
		ok |= subtle.ConstantTimeCompare(got, w)
	}
	return ok == 1
}
