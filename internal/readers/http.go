package readers

import (
	"context"
	"encoding/json"
	"net/http"
)

// EstateFunc returns the estate-wide answer.
type EstateFunc func(ctx context.Context) (Estate, error)

// Routes registers the API on mux:
//
//	GET /api/v1/types[?type=T[&version=V]]   per type and version: producers,
//	                                         readers, retirement verdict;
//	                                         per group and type: idempotency
//
// A filter keeps the matching types (versions compare normalized) and the
// idempotency verdicts of the type; an estate that cannot be assembled is 503.
func Routes(mux *http.ServeMux, estate EstateFunc) {
	mux.HandleFunc("GET /api/v1/types", func(w http.ResponseWriter, r *http.Request) {
		e, err := estate(r.Context())
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		e.Filter(r.URL.Query().Get("type"), r.URL.Query().Get("version"))
		writeJSON(w, http.StatusOK, e)
	})
}

// Filter keeps the types named (all when typ is empty) and, with version,
// only that version.
func (e *Estate) Filter(typ, version string) {
	if typ == "" {
		return
	}
	types := e.Types[:0]
	for _, t := range e.Types {
		if t.Type == typ && (version == "" || SameVersion(t.Version, version)) {
			types = append(types, t)
		}
	}
	e.Types = types
	idem := e.Idempotency[:0]
	for _, p := range e.Idempotency {
		if p.Type == typ {
			idem = append(idem, p)
		}
	}
	e.Idempotency = idem
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
