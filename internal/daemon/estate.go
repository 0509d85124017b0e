package daemon

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/report"
)

// estateShare publishes this replica's learned estate and merges every
// replica's. A replica restarting under the same share.replica_id resumes
// from the document it published before (base), so its counts survive.
type estateShare struct {
	d       *daemon
	started time.Time

	mu    sync.Mutex
	based bool
	base  *catalog.State
}

// document is this replica's ReplicaDoc; false until the board has read
// the topic, so that the base is known.
func (s *estateShare) document() (any, bool) {
	if !s.d.board.Synced() {
		return nil, false
	}
	return s.own(), true // shared type by type: no document-wide bound
}

// own is the base plus what the learner learned since start, with the
// cluster view when this replica leads.
func (s *estateShare) own() catalog.ReplicaDoc {
	s.mu.Lock()
	if !s.based && s.d.board.Synced() {
		s.based = true
		for _, e := range s.d.board.Entries(kindAsyncAPI) {
			var doc catalog.ReplicaDoc
			if e.Self && e.PublishedAt.Before(s.started) && json.Unmarshal(e.Doc, &doc) == nil {
				s.base = &doc.State
			}
		}
	}
	base := s.base
	s.mu.Unlock()
	doc := catalog.ReplicaDoc{State: s.d.learner.State()}
	if base != nil {
		doc.State = catalog.Merge(*base, doc.State)
	}
	if t := s.d.term.Load(); t != nil {
		if snap := t.lag.Snapshot(); snap != nil {
			doc.Cluster, doc.ClusterAt = snap.Topology(s.d.cfg.Sample.GroupID, s.d.cfg.Leader.Group, s.d.cfg.Trace.Routing.Group), snap.Time
		}
	}
	return doc
}

// estate is what GET /api/v1/catalog/asyncapi describes on any replica:
// this replica's own document merged with every other replica's latest
// (a stopped replica's counts still count), and the newest cluster view.
func (s *estateShare) estate(ctx context.Context) (*catalog.Estate, error) {
	docs := []catalog.ReplicaDoc{s.own()}
	for _, e := range s.d.board.Entries(kindAsyncAPI) {
		var doc catalog.ReplicaDoc
		if e.Self || json.Unmarshal(e.Doc, &doc) != nil {
			continue
		}
		docs = append(docs, doc)
	}
	st, cl := catalog.MergeReplicas(docs...)
	p := s.d.auditor.cur.Load().def.Profile()
	return &catalog.Estate{State: st, Cluster: cl, Profile: p.Name, DataPath: p.FieldPath(policy.FieldData),
		CorrelationPath: p.FieldPath(policy.FieldCorrelationID), Generated: time.Now(), Version: s.d.opts.Version,
		Readers: s.d.readersByType(ctx)}, nil
}

// readersByType is, per type and version, the groups that read it; nil
// before the leader's first join (then receive operations cover every
// message of their channel).
func (d *daemon) readersByType(ctx context.Context) map[catalog.ReadKey][]string {
	e, err := d.readersEstate(ctx)
	if err != nil || e.CommitsAt.IsZero() {
		return nil
	}
	out := map[catalog.ReadKey][]string{}
	for _, t := range e.Types {
		for _, r := range t.Readers {
			k := catalog.ReadKey{Type: t.Type, Version: t.Version}
			out[k] = append(out[k], r.Group)
		}
	}
	return out
}

// isDLQTopic reports whether topic is a dead-letter topic under the
// profile that audits it (the first matching override's, else the
// default's).
func (d *daemon) isDLQTopic(topic string) bool {
	r := d.auditor.cur.Load()
	for _, rt := range r.routes {
		if rt.re.MatchString(topic) {
			return rt.eng.Profile().IsDLQTopic(topic)
		}
	}
	return r.def.Profile().IsDLQTopic(topic)
}

// catalogDrift is the weekly report's catalog-drift section: the declared
// catalog (audit.catalog) against the estate-wide discovered document;
// nil without a catalog or when the estate cannot be assembled.
func (d *daemon) catalogDrift() []report.CatalogDifference {
	cat := d.auditor.cur.Load().catalog
	if cat == nil || d.estates == nil {
		return nil
	}
	e, err := d.estates.estate(context.Background())
	if err != nil {
		return nil
	}
	doc, err := catalog.Discover(e).JSON()
	if err != nil {
		return nil
	}
	seen, err := catalog.SeenEntries(doc)
	if err != nil {
		d.log.Warn("catalog drift: read the discovered document", "err", err)
		return nil
	}
	diffs := catalog.Diff(cat.Entries(), seen)
	out := make([]report.CatalogDifference, len(diffs))
	for i, x := range diffs {
		out[i] = report.CatalogDifference{Kind: x.Kind, Type: x.Type, Version: x.Version, Path: x.Path, Message: x.Message}
	}
	return out
}

// dataPaths names the data field of every profile the router audits with.
func dataPaths(r *router) map[string]string {
	out := map[string]string{}
	for _, eng := range append([]*audit.Engine{r.def}, routeEngines(r)...) {
		p := eng.Profile()
		out[p.Name] = p.FieldPath(policy.FieldData)
	}
	return out
}

func routeEngines(r *router) []*audit.Engine {
	out := make([]*audit.Engine, 0, len(r.routes))
	for _, rt := range r.routes {
		out = append(out, rt.eng)
	}
	return out
}
