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

	"github.com/cespare/xxhash/v2"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/share"
	"github.com/eventwatch/eventwatch/internal/trace"
)

// groupsDoc is the leader's consumer-group view as it shares it: the body
// of its GET /api/v1/groups (lag.PageOf) with each group as its template
// (lag.TemplatePageOf: its facts, with the anchors of the figures that
// grow with time), which every replica renders at the page's time
// (lag.RenderPage), so they all answer byte for byte what the leader
// would, and a group is published again only when its facts change.
type groupsDoc struct {
	Cycle int64 `json:"cycle"` // the lag cycle it comes from
	// Coverage is the sampler group's coverage in the leader's last cycle
	// (shown on every replica's /readyz).
	Coverage *lag.Coverage `json:"coverage,omitempty"`
	Page     any           `json:"page"`
	Poison   []dlq.Pill    `json:"poison_pills,omitempty"` // the records blocking stalled partitions

	published func()          // told when the broker has it
	snap      *lag.Snapshot   // the page's snapshot, for ShareSplit
	rendered  *renderedGroups // the groups' JSON of the previous cycle; nil: render every group
}

// renderedGroups keeps, per group, the view its last item was rendered
// from and that item's hash (not its JSON, which the board has shared),
// so that a cycle renders only the groups whose facts changed
// (lag.SameFacts) and passes the others as unchanged (share.Item.Sum).
type renderedGroups struct {
	mu   sync.Mutex
	byID map[string]*renderedGroup
}

type renderedGroup struct {
	view *lag.GroupLag // in the last shared (immutable) snapshot, with the facts the item is rendered from
	sum  uint64        // xxhash of the item's JSON, once rendered
	size int           // its length (or the previous rendering's), to size the next rendering
	done bool          // rendered from view: sum and size are its; false: rendered again next cycle
}

// item is g's item: unchanged (its previous hash) when g's facts did not
// change and its item was rendered, else its template, rendered when the
// board writes it (share.Item.Render: the board holds one chunk of a
// changed document's items at a time, not all of them).
func (r *renderedGroups) item(g *lag.GroupLag, next map[string]*renderedGroup) share.Item {
	key := share.TextKey(g.Group)
	rg := &renderedGroup{view: g}
	if r != nil {
		prev, ok := r.byID[g.Group]
		if ok && prev.done && lag.SameFacts(prev.view, g) {
			// g has the same facts: keep g as the view to compare the next
			// cycle with, so the views point into the newest snapshot and
			// no older one stays alive for them (one whole snapshot per
			// cycle some group last changed in, all scanned by every
			// garbage collection)
			next[g.Group] = &renderedGroup{view: g, sum: prev.sum, size: prev.size, done: true}
			return share.Item{Key: key, Sum: prev.sum}
		}
		if ok {
			rg.size = prev.size
		}
		next[g.Group] = rg
	}
	return share.Item{Key: key, Render: func() ([]byte, error) {
		js, err := lag.AppendGroupTemplate(make([]byte, 0, rg.size+rg.size/8), g) // about the size it had
		if err != nil {
			return nil, fmt.Errorf("marshal group %s: %w", g.Group, err)
		}
		if r != nil {
			r.mu.Lock()
			rg.sum, rg.size, rg.done = xxhash.Sum64(js), len(js), true
			r.mu.Unlock()
		}
		return js, nil
	}}
}

// MarshalJSON is the document with its page (the snapshot's templates
// when not set).
func (g groupsDoc) MarshalJSON() ([]byte, error) {
	type plain groupsDoc // the fields without this method
	p := plain(g)
	if p.Page == nil && g.snap != nil {
		page, err := lag.TemplatePageOf(g.snap)
		if err != nil {
			return nil, err
		}
		p.Page = page
	}
	return json.Marshal(p)
}

// ShareSplit cuts the document for the board (share.Presplit) without
// marshalling the page whole and scanning it again: the head and the
// small members are the split of the document with no groups, and each
// group is marshalled on its own, keyed by its id.
func (g groupsDoc) ShareSplit() ([]byte, map[string][]share.Item, error) {
	if g.snap == nil {
		return nil, nil, errors.New("no snapshot")
	}
	small := *g.snap
	small.Groups = nil
	page, err := lag.TemplatePageOf(&small)
	if err != nil {
		return nil, nil, err
	}
	g.Page = page
	raw, err := json.Marshal(g)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal groups head: %w", err)
	}
	head, items, err := groupsKind.Split(raw)
	if err != nil {
		return nil, nil, err
	}
	items["page.groups"] = g.groupItems()
	return head, items, nil
}

// groupItems are the page's groups as items, each rendered again only
// when its view changed since the previous cycle's document (the others
// are passed as unchanged, by hash).
func (g groupsDoc) groupItems() []share.Item {
	r := g.rendered
	if r != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
	}
	next := make(map[string]*renderedGroup, len(g.snap.Groups))
	out := make([]share.Item, len(g.snap.Groups))
	for i := range g.snap.Groups {
		out[i] = r.item(&g.snap.Groups[i], next)
	}
	if r != nil {
		r.byID = next
	}
	return out
}

// Published records that the cycle's document is on the topic.
func (g groupsDoc) Published() { g.published() }

// sharedGroups is groupsDoc as a reader decodes it.
type sharedGroups struct {
	Cycle    int64           `json:"cycle"`
	Coverage *lag.Coverage   `json:"coverage,omitempty"`
	Page     json.RawMessage `json:"page"`
	Poison   []dlq.Pill      `json:"poison_pills,omitempty"`
}

// groupsDocument is the current term's groups page, once per lag cycle:
// false when this replica does not lead, has no snapshot yet, or already
// published this cycle's (a quiet document is kept alive by the board's
// heartbeat, not rendered again).
func (d *daemon) groupsDocument() (any, bool) {
	t := d.term.Load()
	if t == nil {
		return nil, false
	}
	s := t.lag.Snapshot()
	if s == nil || s.Cycle == t.shared.Load() {
		return nil, false
	}
	doc := groupsDoc{Cycle: s.Cycle, Coverage: s.Coverage, published: func() { t.shared.Store(s.Cycle) }, snap: s,
		rendered: &d.renderedGroups}
	if t.poison != nil {
		doc.Poison = t.poison.All()
	}
	return doc, true
}

// groupsCache keeps the last decoded groups document, so /readyz and the
// API decode a version once, and its page rendered (lag.RenderPage) once
// it was asked for.
type groupsCache struct {
	mu       sync.Mutex
	key      string
	doc      sharedGroups
	good     bool
	page     []byte // the rendered page; nil until asked for
	pageErr  error
	rendered bool
}

// leaderGroups is the newest groups document any replica shared.
func (d *daemon) leaderGroups() (share.Entry, sharedGroups, bool) {
	e, ok := d.board.Newest(kindGroups)
	if !ok {
		return e, sharedGroups{}, false
	}
	c := &d.groupsSeen
	key := e.Replica + "@" + e.PublishedAt.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != key {
		c.doc, c.key, c.page, c.pageErr, c.rendered = sharedGroups{}, key, nil, nil, false
		c.good = json.Unmarshal(e.Doc, &c.doc) == nil && len(c.doc.Page) > 0
	}
	return e, c.doc, c.good
}

// leaderPage is the newest shared groups document with its page
// rendered at the page's time (what the leader answered for that cycle).
func (d *daemon) leaderPage() (share.Entry, sharedGroups, []byte, error) {
	e, doc, ok := d.leaderGroups()
	if !ok {
		return e, doc, nil, errNoSharedGroups
	}
	c := &d.groupsSeen
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != e.Replica+"@"+e.PublishedAt.String() { // a newer version came in between
		page, err := lag.RenderPage(doc.Page)
		return e, doc, page, err
	}
	if !c.rendered {
		c.page, c.pageErr = lag.RenderPage(doc.Page)
		c.rendered = true
	}
	return e, doc, c.page, c.pageErr
}

var errNoSharedGroups = errors.New("no shared groups document")

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
	e, doc, page, err := d.leaderPage()
	switch {
	case errors.Is(err, errNoSharedGroups):
		writeAPIError(w, http.StatusServiceUnavailable, "no replica has shared consumer groups yet: the leader publishes them after its first lag cycle", d.cfg.Lag.Interval)
		return
	case err != nil:
		d.log.Error("shared groups page cannot be rendered", "replica", e.Replica, "err", err)
		writeAPIError(w, http.StatusServiceUnavailable, "the shared groups page cannot be rendered ("+err.Error()+"); is the leader a different eventwatch version?", d.cfg.Lag.Interval)
		return
	}
	w.Header().Set("Eventwatch-Source", fmt.Sprintf("replica=%s; published_at=%s; stale=%t", e.Replica, e.PublishedAt.Format(time.RFC3339), e.Stale))
	name := r.PathValue("group")
	if name == "" {
		writeIndented(w, http.StatusOK, page)
		return
	}
	d.groupFromPage(w, doc, page, name)
}

// groupFromPage answers one group on a follower from the shared page:
// topic-level lag (the per-partition rows are rendered on request by the
// leader only, never shared) and the group's poison pills, as the
// leader's detail names them.
func (d *daemon) groupFromPage(w http.ResponseWriter, doc sharedGroups, page []byte, name string) {
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
			w.Header().Set("Eventwatch-Detail", "topic; per-partition rows are served by the lag leader")
			writeRaw(w, http.StatusOK, withPills(g, name, doc.Poison))
			return
		}
		known = append(known, id.Group)
	}
	body, _ := json.Marshal(lag.UnknownGroup(name, known))
	writeRaw(w, http.StatusNotFound, append(body, '\n'))
}

// withPills is a group's JSON with its "poison_pills" added, indented as
// the leader's detail is (withPoison).
func withPills(group []byte, name string, all []dlq.Pill) []byte {
	var doc map[string]json.RawMessage
	if json.Unmarshal(group, &doc) != nil {
		return group
	}
	pills := []dlq.Pill{}
	for _, pl := range all {
		if pl.Group == name {
			pills = append(pills, pl)
		}
	}
	doc["poison_pills"], _ = json.Marshal(pills)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return group
	}
	return append(out, '\n')
}

// writeIndented writes compact JSON as the lag API's encoder does
// (two-space indent, trailing newline).
func writeIndented(w http.ResponseWriter, code int, compact []byte) {
	var buf bytes.Buffer
	if json.Indent(&buf, compact, "", "  ") != nil {
		writeRaw(w, code, compact)
		return
	}
	buf.WriteByte('\n')
	writeRaw(w, code, buf.Bytes())
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
