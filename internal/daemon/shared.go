package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/trace"
)

// Kinds of the state documents the daemon shares (package share).
const (
	kindFlows  = "flows"  // every replica: the chains it closed, the events it sampled
	kindGroups = "groups" // the leader: its consumer-group snapshot as /api/v1/groups renders it
)

// maxGroupDetails bounds the per-group detail the leader shares; beyond it
// followers answer /api/v1/groups/{group} from the groups page (no
// per-partition rows).
const maxGroupDetails = 512 << 10

// groupsDoc is the leader's consumer-group view, as its own routes render it,
// so that every replica answers byte for byte what the leader would.
type groupsDoc struct {
	Status int                        `json:"status"`           // status of GET /api/v1/groups on the leader
	Page   json.RawMessage            `json:"page"`             // its body
	Groups map[string]json.RawMessage `json:"groups,omitempty"` // body of GET /api/v1/groups/{group}, per group
	// Coverage is the sampler group's coverage in the leader's last cycle
	// (shown on every replica's /readyz).
	Coverage *lag.Coverage `json:"coverage,omitempty"`
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

// groupsDocument renders the current term's groups page and group details;
// false when this replica does not lead or has no snapshot yet.
func (d *daemon) groupsDocument() (any, bool) {
	t := d.term.Load()
	if t == nil {
		return nil, false
	}
	code, page := render(t.mux, "/api/v1/groups")
	if code != http.StatusOK {
		return nil, false
	}
	doc := groupsDoc{Status: code, Page: page, Groups: map[string]json.RawMessage{}}
	if s := t.lag.Snapshot(); s != nil {
		doc.Coverage = s.Coverage
	}
	var names struct {
		Groups []struct {
			Group string `json:"group"`
		} `json:"groups"`
	}
	_ = json.Unmarshal(page, &names)
	size := len(page)
	for _, g := range names.Groups {
		c, body := render(t.mux, "/api/v1/groups/"+g.Group)
		if c != http.StatusOK || size+len(body) > maxGroupDetails {
			continue
		}
		size += len(body)
		doc.Groups[g.Group] = body
	}
	return doc, true
}

// serveGroups answers /api/v1/groups[/{group}] on every replica: the
// leader from its own collector, the others from the leader's shared
// document, and a replica that cannot reach Kafka says so.
func (d *daemon) serveGroups(w http.ResponseWriter, r *http.Request) {
	if ok, reason := d.ready.status(); !ok {
		writeAPIError(w, http.StatusServiceUnavailable, "Kafka is unreachable from this replica ("+reason+"); consumer groups cannot be collected or shared", d.cfg.Kafka.ProbeEvery)
		return
	}
	if t := d.term.Load(); t != nil {
		t.mux.ServeHTTP(w, r)
		return
	}
	e, ok := d.board.Newest(kindGroups)
	var doc groupsDoc
	if !ok || json.Unmarshal(e.Doc, &doc) != nil {
		writeAPIError(w, http.StatusServiceUnavailable, "no replica has shared consumer groups yet: the leader publishes them after its first lag cycle", d.cfg.Lag.Interval)
		return
	}
	w.Header().Set("Eventwatch-Source", fmt.Sprintf("replica=%s; published_at=%s; stale=%t", e.Replica, e.PublishedAt.Format(time.RFC3339), e.Stale))
	name := r.PathValue("group")
	if name == "" {
		writeRaw(w, doc.Status, doc.Page)
		return
	}
	if body, ok := doc.Groups[name]; ok {
		writeRaw(w, http.StatusOK, body)
		return
	}
	d.groupFromPage(w, doc.Page, name)
}

// groupFromPage answers one group from the shared page (topic-level lag,
// no partitions) when the leader did not share its detail.
func (d *daemon) groupFromPage(w http.ResponseWriter, page []byte, name string) {
	var p struct {
		Groups []json.RawMessage `json:"groups"`
	}
	_ = json.Unmarshal(page, &p)
	known := make([]string, 0, len(p.Groups))
	for _, g := range p.Groups {
		var id struct {
			Group string `json:"group"`
		}
		if json.Unmarshal(g, &id) == nil && id.Group == name {
			writeRaw(w, http.StatusOK, g)
			return
		}
		known = append(known, id.Group)
	}
	body, _ := json.Marshal(lag.UnknownGroup(name, known))
	writeRaw(w, http.StatusNotFound, append(body, '\n'))
}

func writeRaw(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func writeAPIError(w http.ResponseWriter, code int, msg string, retry time.Duration) {
	if retry > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(max(int(retry/time.Second), 1)))
	}
	body, _ := json.Marshal(map[string]string{"error": msg})
	writeRaw(w, code, append(body, '\n'))
}

// flowsShare publishes this replica's flows and merges everyone's. A
// replica that restarts under the same share.replica_id resumes from the
// document it published before (base), so its counts are never lost.
type flowsShare struct {
	d       *daemon
	started time.Time

	mu      sync.Mutex
	based   bool
	base    trace.FlowsDoc
	hasBase bool
}

// flowsDocument is a FlowsDoc on its way to the board; once it is durable
// the stitcher may mark the chains it counts as closed on the routing topic.
type flowsDocument struct {
	trace.FlowsDoc
	live uint64 // closed chains of this process in it
	s    *trace.Stitcher
}

// Published releases the markers of the chains the document counts.
func (d flowsDocument) Published() { d.s.Published(d.live) }

// MarshalJSON is the FlowsDoc's.
func (d flowsDocument) MarshalJSON() ([]byte, error) { return json.Marshal(d.FlowsDoc) }

// document is this replica's FlowsDoc (base included); false until the
// board has read the topic, so that the base is known.
func (f *flowsShare) document() (any, bool) {
	if !f.d.board.Synced() {
		return nil, false
	}
	doc, live := f.own()
	return flowsDocument{FlowsDoc: doc, live: live, s: f.d.stitcher}, true
}

// publishNow publishes this replica's flows at once (the stitcher asks
// before it hands partitions over, so its counts are durable first).
func (f *flowsShare) publishNow(ctx context.Context) error {
	doc, ok := f.document()
	if !ok {
		return errors.New("publish flows: the shared state topic has not been read yet")
	}
	return f.d.board.Publish(ctx, kindFlows, doc)
}

// own is the base plus what the stitcher aggregated since start, and the
// chains closed by this process in it.
func (f *flowsShare) own() (trace.FlowsDoc, uint64) {
	f.mu.Lock()
	if !f.based {
		f.based = true
		for _, e := range f.d.board.Entries(kindFlows) {
			if e.Self && e.PublishedAt.Before(f.started) && json.Unmarshal(e.Doc, &f.base) == nil {
				f.base.Open, f.hasBase = 0, true
			}
		}
	}
	base, hasBase := f.base, f.hasBase
	f.mu.Unlock()
	live := f.d.stitcher.FlowsDoc()
	if !hasBase {
		return live, live.Closed
	}
	merged := trace.MergeFlows(f.d.cfg.Trace.BrokenChains, base, live)
	merged.Open = live.Open
	return merged, live.Closed
}

// report merges this replica's live document with every other replica's
// latest one. Stale documents (stopped replicas) still add their counts
// but not their open chains, which their partitions' new owners hold.
func (f *flowsShare) report() trace.Report {
	own, _ := f.own()
	docs := []trace.FlowsDoc{own}
	refs := []trace.ReplicaRef{{Replica: f.d.board.ReplicaID(), PublishedAt: time.Now().UTC()}}
	for _, e := range f.d.board.Entries(kindFlows) {
		var doc trace.FlowsDoc
		if e.Self || json.Unmarshal(e.Doc, &doc) != nil {
			continue
		}
		if e.Stale {
			doc.Open = 0
		}
		docs = append(docs, doc)
		refs = append(refs, trace.ReplicaRef{Replica: e.Replica, PublishedAt: e.PublishedAt, Stale: e.Stale})
	}
	rep := trace.MergeFlows(f.d.cfg.Trace.BrokenChains, docs...).Report(time.Now().UTC())
	rep.Replicas = refs
	return rep
}

// shareState registers the shared documents on the board and, with
// routing on, makes the stitcher publish its flows before it marks chains.
func (d *daemon) shareState() {
	b := d.board
	fs := &flowsShare{d: d, started: time.Now()}
	b.Provide(kindFlows, fs.document)
	b.Provide(kindGroups, d.groupsDocument)
	d.estates = &estateShare{d: d, started: time.Now()}
	b.Provide(kindAsyncAPI, d.estates.document)
	b.Provide(kindReaders, d.readersDocument)
	d.stitcher.ServeMerged(fs.report)
	if d.cfg.Trace.Spans.Enabled {
		d.stitcher.EnableSpanTopic(d.base)
	}
	if d.cfg.Trace.Routing.On() {
		d.stitcher.EnableRouting(d.base)
		d.stitcher.PublishWith(fs.publishNow)
	}
}
