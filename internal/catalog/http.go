package catalog

import (
	"context"
	"encoding/json"
	"net/http"
)

// EstateFunc returns the estate to describe, merged across replicas.
type EstateFunc func(ctx context.Context) (*Estate, error)

// Routes registers the discovery API on mux:
//
//	GET /api/v1/catalog/asyncapi   the observed estate as an AsyncAPI 3.0 document
//	                               (YAML; JSON with ?format=json)
//
// An unknown format is 400; an estate that cannot be assembled is 503.
func Routes(mux *http.ServeMux, estate EstateFunc) {
	mux.HandleFunc("GET /api/v1/catalog/asyncapi", func(w http.ResponseWriter, r *http.Request) {
		serveAsyncAPI(w, r, estate)
	})
}

func serveAsyncAPI(w http.ResponseWriter, r *http.Request, estate EstateFunc) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "yaml" && format != "json" {
		writeError(w, http.StatusBadRequest, "format must be yaml or json, not "+format)
		return
	}
	e, err := estate(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	doc := Discover(e)
	var body []byte
	if format == "json" {
		body, err = doc.JSON()
		w.Header().Set("Content-Type", "application/json")
	} else {
		body, err = doc.YAML()
		w.Header().Set("Content-Type", "application/yaml")
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
