package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/readers"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/share"
	"github.com/eventwatch/eventwatch/internal/trace"
)

// kindReaders is the shared document of who reads what (readers.ReplicaDoc).
const kindReaders = "readers"

// buildReaders creates the consumption index and idempotency checker and
// hands it the stitcher's closed chains.
func (d *daemon) buildReaders() error {
	t, err := readers.New(d.cfg.Readers, d.isDLQTopic, d.reg)
	if err != nil {
		return err
	}
	d.readers, d.readersStarted = t, time.Now()
	d.stitcher.OnCausation(func(c trace.Causation) { t.ObserveChain(chainOf(c)) })
	return nil
}

// chainOf adapts the stitcher's causation to the checker's chain: the one
// place that knows both, so a change of either stays here.
func chainOf(c trace.Causation) readers.Chain {
	out := readers.Chain{Events: make([]readers.Event, len(c.Events)), Redelivered: c.Redelivered}
	for i, e := range c.Events {
		out.Events[i] = readers.Event{ID: e.EventID, Type: e.EventType, Service: e.Service, Topic: e.Topic,
			Partition: e.Partition, Offset: e.Offset, Upstream: e.Upstream}
	}
	return out
}

// joinLoop joins every new lag snapshot's committed offsets with the
// consumption index, importing the other replicas' positions first, until
// ctx ends (the leadership term). It wakes when the collector publishes
// (lag.Collector.Published), not on a timer.
func (d *daemon) joinLoop(ctx context.Context, col *lag.Collector) {
	var last int64
	for {
		next := col.Published()
		if snap := col.Snapshot(); snap != nil && snap.Cycle != last {
			d.importPositions()
			if d.readers.Index.JoinIndexedTopics(snap.Time, d.commits(col, snap)) {
				last = snap.Cycle
			} // else a new cycle began: join its snapshot when it is published
		}
		select {
		case <-ctx.Done():
			return
		case <-next:
		}
	}
}

// commits streams every watched group's committed offsets in snap, one
// group's topic at a time, eventwatch's own groups left out, from the
// collector's state (no group's detail is built, no list of every group
// partition), on the topics the index holds partitions of (indexed: the
// others' commits change nothing, and an idle estate's cost nothing); it
// reports false when the collector has begun another cycle since snap.
func (d *daemon) commits(col *lag.Collector, snap *lag.Snapshot) func(indexed func(topic string) bool, yield func(group, topic string, offsets []int64)) bool {
	own := d.ownGroups()
	return func(indexed func(topic string) bool, yield func(group, topic string, offsets []int64)) bool {
		last, skip := "", false
		return col.TopicCommitsOf(snap, indexed, func(group, topic string, committed []int64) {
			if group != last || last == "" { // commits come grouped by group: ask once per group
				last, skip = group, slices.Contains(own, group)
			}
			if !skip {
				yield(group, topic, committed) // lag.NotSampled is negative: the join skips it
			}
		})
	}
}

// importPositions takes the other replicas' shared positions into the
// index before a join; a document already imported (the same replica and
// publication) is not decoded again: importing it again changes nothing.
func (d *daemon) importPositions() {
	s := &d.readersShared
	for _, e := range d.board.Entries(kindReaders) {
		s.mu.Lock()
		done := s.imported[e.Replica].Equal(e.PublishedAt)
		s.mu.Unlock()
		var doc readers.ReplicaDoc
		if e.Self || done || json.Unmarshal(e.Doc, &doc) != nil {
			continue
		}
		d.readers.Index.ImportPositions(doc.Positions)
		if e.Incomplete > 0 {
			continue // decode it again when its missing items arrive
		}
		s.mu.Lock()
		if s.imported == nil {
			s.imported = map[string]time.Time{}
		}
		s.imported[e.Replica] = e.PublishedAt
		s.mu.Unlock()
	}
}

// readersShared is what the readers document the broker acknowledged
// was made of, and the other replicas' documents the leader imported.
type readersShared struct {
	mu       sync.Mutex
	sent     bool
	gen      uint64 // readers.Tracker.Generation
	leader   bool
	imported map[string]time.Time       // replica -> published_at of the document whose positions were imported
	verdicts map[string]decodedVerdicts // replica -> its latest publication's idempotency verdicts
}

// readersDoc is a readers.ReplicaDoc that hears when the broker has it.
type readersDoc struct {
	readers.ReplicaDoc
	published func()
}

// Published records what the document on the topic is made of.
func (r readersDoc) Published() { r.published() }

// readersDocument is this replica's shared document; none until the
// board has read the topic, so that an earlier process's document is
// resumed from, not overwritten, and none while neither what the tracker
// knows (its generation) nor the leadership changed since the document
// the broker has: an idle replica renders no positions (the board's
// heartbeat keeps the document alive).
func (d *daemon) readersDocument() (any, bool) {
	if !d.resumeReaders() {
		return nil, false
	}
	leader, gen := d.term.Load() != nil, d.readers.Generation()
	s := &d.readersShared
	s.mu.Lock()
	same := s.sent && s.gen == gen && s.leader == leader
	s.mu.Unlock()
	if same {
		return nil, false
	}
	return readersDoc{ReplicaDoc: d.readers.Document(leader, true), published: func() {
		s.mu.Lock()
		s.sent, s.gen, s.leader = true, gen, leader
		s.mu.Unlock()
	}}, true
}

// resumeReaders resumes, once the board has read the shared topic, from
// the document an earlier process of this replica (same share.replica_id)
// published; false until then.
func (d *daemon) resumeReaders() bool {
	if !d.board.Synced() {
		return false
	}
	d.readersResumed.Do(func() {
		for _, e := range d.board.Entries(kindReaders) {
			var doc readers.ReplicaDoc
			if e.Self && e.PublishedAt.Before(d.readersStarted) && json.Unmarshal(e.Doc, &doc) == nil {
				d.readers.Resume(doc)
				d.log.Info("readers resumed from this replica's earlier document", "published_at", e.PublishedAt, "types", len(doc.Stats))
			}
		}
	})
	return true
}

// readersEstate is GET /api/v1/types on any replica: this replica's own
// document with every other replica's latest.
func (d *daemon) readersEstate(context.Context) (readers.Estate, error) {
	if d.readers == nil {
		return readers.Estate{}, errors.New("readers are not tracked")
	}
	d.resumeReaders()
	docs := []readers.ReplicaDoc{d.readers.Document(d.term.Load() != nil, false)}
	for _, e := range d.board.Entries(kindReaders) {
		var doc readers.ReplicaDoc
		if e.Self || json.Unmarshal(e.Doc, &doc) != nil {
			continue
		}
		docs = append(docs, doc)
	}
	return readers.Assemble(docs, time.Now(), d.readers.Window()), nil
}

// notIdempotent lists the consumer.not_idempotent findings for the lag
// collector's cluster rules (every lag cycle): the verdicts GET
// /api/v1/types merges (this replica's with every other replica's
// latest), without assembling the rest of the estate, each other
// replica's publication decoded once.
func (d *daemon) notIdempotent() []lag.Finding {
	if d.readers == nil {
		return nil
	}
	d.resumeReaders()
	lists := [][]readers.Idempotency{d.readers.Idempotency()}
	for _, e := range d.board.Entries(kindReaders) {
		if idem, ok := d.readersShared.idempotencyOf(e); ok {
			lists = append(lists, idem)
		}
	}
	var out []lag.Finding
	for _, p := range readers.MergeIdempotency(lists...) {
		if p.Verdict == readers.VerdictNotIdempotent {
			out = append(out, lag.Finding{Resource: p.Group + "@" + p.Type, Message: p.Message()})
		}
	}
	return out
}

// idempotencyOf is the idempotency verdicts of another replica's shared
// document, decoded once per publication; false for this replica's own
// and for a document that does not decode.
func (s *readersShared) idempotencyOf(e share.Entry) ([]readers.Idempotency, bool) {
	if e.Self {
		return nil, false
	}
	s.mu.Lock()
	c, ok := s.verdicts[e.Replica]
	s.mu.Unlock()
	if ok && c.at.Equal(e.PublishedAt) && c.incomplete == e.Incomplete {
		return c.idem, c.ok
	}
	var doc readers.ReplicaDoc
	c = decodedVerdicts{at: e.PublishedAt, incomplete: e.Incomplete, ok: json.Unmarshal(e.Doc, &doc) == nil}
	c.idem = doc.Idempotency
	s.mu.Lock()
	if s.verdicts == nil {
		s.verdicts = map[string]decodedVerdicts{}
	}
	s.verdicts[e.Replica] = c
	s.mu.Unlock()
	return c.idem, c.ok
}

// decodedVerdicts is one publication's idempotency verdicts.
type decodedVerdicts struct {
	at         time.Time
	incomplete int
	ok         bool
	idem       []readers.Idempotency
}

// consumersSection is the weekly report's who-reads-what section; nil when
// nothing was seen yet.
func (d *daemon) consumersSection() *report.Consumers {
	e, err := d.readersEstate(context.Background())
	if err != nil || len(e.Types) == 0 {
		return nil
	}
	out := &report.Consumers{Types: make([]report.TypeReaders, 0, len(e.Types)), Idempotency: make([]report.IdempotencyRow, 0, len(e.Idempotency))}
	for _, t := range e.Types {
		tr := report.TypeReaders{Type: t.Type, Version: t.Version, Retirable: t.Retirement.Retirable, Verdict: t.Retirement.Verdict,
			Producers: []report.LastSeen{}, Readers: []report.LastSeen{}}
		for _, p := range t.Producers {
			tr.Producers = append(tr.Producers, report.LastSeen{Name: p.Service, Last: p.LastSeen})
		}
		for _, r := range t.Readers {
			tr.Readers = append(tr.Readers, report.LastSeen{Name: r.Group, Last: r.LastRead, Behind: r.BehindEvents})
		}
		out.Types = append(out.Types, tr)
	}
	for _, p := range e.Idempotency {
		row := report.IdempotencyRow{Group: p.Group, Type: p.Type, Verdict: p.Verdict, Redelivered: p.Redelivered, Duplicated: p.Duplicated}
		if p.Verdict == readers.VerdictNotIdempotent {
			row.Example = p.Message()
		}
		out.Idempotency = append(out.Idempotency, row)
	}
	return out
}
