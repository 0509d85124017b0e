package readers

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/eventwatch/eventwatch/internal/httpjson"
	"github.com/eventwatch/eventwatch/internal/nearest"
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
// idempotency verdicts of the type; an estate that cannot be assembled is
// 503. A type (or a version of a known type) the estate has not seen is
// 404 with the nearest known names: a typo is not "nobody reads it".
func Routes(mux *http.ServeMux, estate EstateFunc) {
	mux.HandleFunc("GET /api/v1/types", func(w http.ResponseWriter, r *http.Request) {
		e, err := estate(r.Context())
		if err != nil {
			httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		typ, version := r.URL.Query().Get("type"), r.URL.Query().Get("version")
		if err := e.CheckFilter(typ, version); err != nil {
			var u *nearest.Unknown
			errors.As(err, &u)
			httpjson.Write(w, http.StatusNotFound, struct {
				Error string `json:"error"`
				*nearest.Unknown
			}{Error: err.Error(), Unknown: u})
			return
		}
		e.Filter(typ, version)
		httpjson.Write(w, http.StatusOK, e)
	})
}

// CheckFilter returns a *nearest.Unknown when typ is set but neither a
// type nor an idempotency verdict of the estate names it, or when version
// is set and typ has no such version; nil otherwise.
func (e *Estate) CheckFilter(typ, version string) error {
	if typ == "" {
		return nil
	}
	var types, versions []string
	for _, t := range e.Types {
		types = append(types, t.Type)
		if t.Type == typ {
			if version == "" || SameVersion(t.Version, version) {
				return nil
			}
			versions = append(versions, t.Version)
		}
	}
	for _, p := range e.Idempotency {
		types = append(types, p.Type)
	}
	slices.Sort(types)
	types = slices.Compact(types)
	if !slices.Contains(types, typ) {
		return nearest.Check("event type", typ, types)
	}
	if versions == nil { // known from idempotency verdicts only
		return nil
	}
	return nearest.Check("version", version, versions)
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
