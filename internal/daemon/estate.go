package daemon

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/lag"
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
	sent  *sentEstate // what the document on the topic was made of; nil: none yet
}

// sentEstate is what a published document was made of: the learner's
// generation and the cluster view (nil when this replica did not lead),
// and the newest lag snapshot (its cycle and time: cycles count again in
// a new leadership term) that has that view.
type sentEstate struct {
	gen     uint64
	cluster *catalog.Cluster
	cycle   int64
	at      time.Time
}

// estateDoc is a ReplicaDoc that hears when the broker has it.
type estateDoc struct {
	catalog.ReplicaDoc
	published func()
}

// Published records what the document on the topic is made of.
func (e estateDoc) Published() { e.published() }

// document is this replica's ReplicaDoc; false until the board has read
// the topic, so that the base is known, and while neither what the
// learner learned (its generation) nor the cluster view changed since the
// document on the topic: an idle estate rebuilds, marshals and diffs
// nothing (the board's heartbeat keeps the document alive). The cluster
// view of an unchanged document keeps the cluster_at of the cycle that
// first found it.
func (s *estateShare) document() (any, bool) {
	if !s.d.board.Synced() {
		return nil, false
	}
	gen, snap := s.d.learner.Generation(), s.leaderSnapshot()
	if s.unchanged(gen, snap) {
		return nil, false
	}
	doc := s.ownAt(snap)
	sent := &sentEstate{gen: gen, cluster: doc.Cluster}
	if snap != nil {
		sent.cycle, sent.at = snap.Cycle, snap.Time
	}
	return estateDoc{ReplicaDoc: doc, published: func() {
		s.mu.Lock()
		s.sent = sent
		s.mu.Unlock()
	}}, true // shared type by type: no document-wide bound
}

// unchanged reports whether the document on the topic was made of the
// learner's generation gen and snap's cluster view; a snapshot is compared
// once (the share interval is shorter than the lag interval).
func (s *estateShare) unchanged(gen uint64, snap *lag.Snapshot) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sent := s.sent
	if sent == nil || sent.gen != gen {
		return false
	}
	if snap != nil && sent.cluster != nil && snap.Cycle == sent.cycle && snap.Time.Equal(sent.at) {
		return true
	}
	if !sameCluster(sent.cluster, snap, s.d.ownGroups()) {
		return false
	}
	if snap != nil {
		sent.cycle, sent.at = snap.Cycle, snap.Time
	}
	return true
}

// leaderSnapshot is the lag collector's latest snapshot while this
// replica leads; nil otherwise.
func (s *estateShare) leaderSnapshot() *lag.Snapshot {
	if t := s.d.term.Load(); t != nil {
		return t.lag.Snapshot()
	}
	return nil
}

// own is the base plus what the learner learned since start, with the
// cluster view when this replica leads.
func (s *estateShare) own() catalog.ReplicaDoc { return s.ownAt(s.leaderSnapshot()) }

// ownAt is own with the cluster view of snap (nil: none).
func (s *estateShare) ownAt(snap *lag.Snapshot) catalog.ReplicaDoc {
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
	if snap != nil {
		doc.Cluster, doc.ClusterAt = snap.Topology(s.d.ownGroups()...), snap.Time
	}
	return doc
}

// ownGroups are eventwatch's own consumer groups, left out of the
// cluster view.
func (d *daemon) ownGroups() []string {
	return []string{d.cfg.Sample.GroupID, d.cfg.Leader.Group, d.cfg.Trace.Routing.Group}
}

// sameCluster reports whether cl is snap's cluster view without the own
// groups (snap.Topology(own...)), without building that: nil is the view
// of no snapshot.
func sameCluster(cl *catalog.Cluster, snap *lag.Snapshot, own []string) bool {
	if cl == nil || snap == nil {
		return cl == nil && snap == nil
	}
	if !slices.Equal(cl.Topics, snap.Topics) {
		return false
	}
	i := 0
	for _, g := range snap.Groups {
		if slices.Contains(own, g.Group) {
			continue
		}
		if i >= len(cl.Groups) || cl.Groups[i].Group != g.Group || len(cl.Groups[i].Topics) != len(g.Topics) {
			return false
		}
		for j, t := range g.Topics {
			if cl.Groups[i].Topics[j] != t.Topic {
				return false
			}
		}
		i++
	}
	return i == len(cl.Groups)
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
