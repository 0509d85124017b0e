package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/lag"
)

// poisonLoop names the blocking record of every STALL partition after each
// lag cycle of the term (within the cycle that found the stall), until ctx
// is done. It wakes when the collector publishes (lag.Collector.Published).
func (d *daemon) poisonLoop(ctx context.Context, c *lag.Collector, p *dlq.Poison) {
	for {
		next := c.Published()
		p.Update(ctx, c.Snapshot(), c.GroupDetail)
		select {
		case <-ctx.Done():
			return
		case <-next:
		}
	}
}

// withPoison wraps the lag collector's routes so that GET
// /api/v1/groups/{group} also names the records blocking the group's
// stalled partitions ("poison_pills").
func withPoison(lagMux http.Handler, p *dlq.Poison) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", lagMux)
	mux.HandleFunc("GET /api/v1/groups/{group}", func(w http.ResponseWriter, r *http.Request) {
		code, body := render(lagMux, r.URL.Path)
		var doc map[string]json.RawMessage
		if code != http.StatusOK || json.Unmarshal(body, &doc) != nil {
			writeRaw(w, code, body)
			return
		}
		pills, _ := json.Marshal(p.Group(r.PathValue("group")))
		doc["poison_pills"] = pills
		out, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			writeRaw(w, code, body)
			return
		}
		writeRaw(w, code, append(out, '\n'))
	})
	return mux
}

// bufferedResponse is an http.ResponseWriter that keeps what is written.
type bufferedResponse struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.h }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(code int)        { b.code = code }

// render runs GET path on mux and returns status and body.
func render(mux http.Handler, path string) (int, []byte) {
	req, _ := http.NewRequest(http.MethodGet, path, http.NoBody) //nolint:noctx // in-process, never sent
	w := &bufferedResponse{h: http.Header{}, code: http.StatusOK}
	mux.ServeHTTP(w, req)
	return w.code, w.body.Bytes()
}
