package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/readers"
	"github.com/eventwatch/eventwatch/internal/share"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
	"github.com/eventwatch/eventwatch/internal/topology"
)

// TestSameClusterIsTopologyEqual: sameCluster says a kept cluster view is
// snap's exactly when snap.Topology without the own groups equals it.
func TestSameClusterIsTopologyEqual(t *testing.T) {
	own := []string{"eventwatch", "eventwatch-leader"}
	snap := func(topics []string, groups map[string][]string, order ...string) *lag.Snapshot {
		s := &lag.Snapshot{}
		for _, tp := range topics {
			s.Topics = append(s.Topics, topology.Topic{Topic: tp, Partitions: 3, Replicas: 1, RetentionMS: 1000})
		}
		for _, g := range order {
			gl := lag.GroupLag{Group: g}
			for _, tp := range groups[g] {
				gl.Topics = append(gl.Topics, lag.TopicLag{Topic: tp})
			}
			s.Groups = append(s.Groups, gl)
		}
		return s
	}
	base := snap([]string{"a", "b"}, map[string][]string{"billing": {"a", "b"}, "eventwatch": {"a"}, "shipping": {"b"}},
		"billing", "eventwatch", "shipping")
	kept := base.Topology(own...)
	variants := map[string]*lag.Snapshot{
		"another topic":              snap([]string{"a", "b", "c"}, map[string][]string{"billing": {"a", "b"}, "shipping": {"b"}}, "billing", "shipping"),
		"a group more":               snap([]string{"a", "b"}, map[string][]string{"billing": {"a", "b"}, "shipping": {"b"}, "x": {"a"}}, "billing", "shipping", "x"),
		"a group less":               snap([]string{"a", "b"}, map[string][]string{"billing": {"a", "b"}}, "billing"),
		"a group reads another":      snap([]string{"a", "b"}, map[string][]string{"billing": {"a"}, "shipping": {"b"}}, "billing", "shipping"),
		"own group only differs":     snap([]string{"a", "b"}, map[string][]string{"billing": {"a", "b"}, "eventwatch-leader": {"b"}, "shipping": {"b"}}, "billing", "eventwatch-leader", "shipping"),
		"the same without own group": snap([]string{"a", "b"}, map[string][]string{"billing": {"a", "b"}, "shipping": {"b"}}, "billing", "shipping"),
	}
	variants["another retention"] = snap([]string{"a", "b"}, map[string][]string{"billing": {"a", "b"}, "shipping": {"b"}}, "billing", "shipping")
	variants["another retention"].Topics[1].RetentionMS = 2000
	for name, s := range variants {
		want := equalJSON(t, kept, s.Topology(own...))
		if got := sameCluster(kept, s, own); got != want {
			t.Errorf("%s: sameCluster = %t, Topology equal = %t", name, got, want)
		}
	}
	if !sameCluster(kept, base, own) || !sameCluster(nil, nil, own) || sameCluster(kept, nil, own) || sameCluster(nil, base, own) {
		t.Error("sameCluster: the snapshot's own view, or nil against nil, is not the same; or nil against one is")
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(x) == string(y)
}

// TestEstateDocumentOnlyWhenChanged: the AsyncAPI share's provider gives a
// document (the one it gave before this change: own()) on the first round
// and whenever the learner learned something or the leader's cluster view
// changed, until the broker has it; an idle estate's rounds, lag cycles
// included, give none.
func TestEstateDocumentOnlyWhenChanged(t *testing.T) {
	t.Parallel()
	c, cfg, d := boardOnly(t)
	ctx := context.Background()
	s := d.estates
	published := func(what string) {
		t.Helper()
		doc, ok := s.document()
		if !ok {
			t.Fatalf("%s: no document", what)
		}
		if !equalJSON(t, doc, s.own()) {
			t.Fatalf("%s: document %s, want own() %s", what, mustJSON(t, doc), mustJSON(t, s.own()))
		}
		if _, ok := s.document(); !ok {
			t.Fatalf("%s: no document again before the broker had it", what)
		}
		if err := d.board.Publish(ctx, kindAsyncAPI, doc); err != nil {
			t.Fatal(err)
		}
	}
	quiet := func(what string) {
		t.Helper()
		if doc, ok := s.document(); ok {
			t.Fatalf("%s: a document although nothing changed: %s", what, mustJSON(t, doc))
		}
	}
	// the board publishes every provided kind once it has read the topic:
	// when its loop did so before the test looked, the first round is given
	s.mu.Lock()
	sent := s.sent != nil
	s.mu.Unlock()
	if !sent {
		published("first round")
	}
	quiet("idle")

	cl := kfaketest.Client(t, c)
	col, err := lag.New(cfg.Lag, cl, lag.Expectations{}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := col.CollectOnce(ctx); err != nil {
		t.Fatal(err)
	}
	d.term.Store(&term{lag: col})
	published("leading: a cluster view")
	if err := col.CollectOnce(ctx); err != nil {
		t.Fatal(err)
	}
	quiet("another lag cycle, the same cluster")

	rec := &event.Record{Topic: "orders", Value: []byte(goodHuleedu), Timestamp: time.Now()}
	res := d.auditor.Check(rec)
	d.learner.Observe(rec, &res)
	published("an audited record")
	quiet("idle after the record")

	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 0, LeaderEpoch: -1})
	if _, err := kadm.NewClient(cl).CommitOffsets(ctx, "billing", offs); err != nil {
		t.Fatal(err)
	}
	if err := col.CollectOnce(ctx); err != nil {
		t.Fatal(err)
	}
	published("a group more")
	wait.Within(t, 30*time.Second, "the document on the topic names billing", func() bool {
		for _, e := range d.board.Entries(kindAsyncAPI) {
			var doc catalog.ReplicaDoc
			if e.Self && json.Unmarshal(e.Doc, &doc) == nil && doc.Cluster != nil && len(doc.Cluster.Groups) == 1 &&
				doc.Cluster.Groups[0].Group == "billing" {
				return true
			}
		}
		return false
	})
	quiet("idle after the group")

	if _, err := kadm.NewClient(cl).DeleteGroup(ctx, "billing"); err != nil {
		t.Fatal(err)
	}
	next, err := lag.New(cfg.Lag, cl, lag.Expectations{}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // a new term's collector, at the cycle number of the last document's snapshot
		if err := next.CollectOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if next.Snapshot().Cycle != col.Snapshot().Cycle {
		t.Fatalf("the new term's cycle %d, want %d", next.Snapshot().Cycle, col.Snapshot().Cycle)
	}
	d.term.Store(&term{lag: next})
	published("a new term without the group")
	quiet("idle in the new term")

	d.term.Store(nil)
	published("no longer leading")
	quiet("idle, not leading")
}

// boardOnly builds a daemon against a kfake cluster with a topic "orders"
// and runs only its board (no sampler, no elector: the test feeds and
// leads it), until the test ends.
func boardOnly(t *testing.T) (*kfake.Cluster, *config.Config, *daemon) {
	t.Helper()
	c, cfg := kfakeConfig(t, kfake.SeedTopics(2, "orders"))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := newDaemon(ctx, cfg, Options{LogOutput: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.closeStore)
	if err := d.shareState(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.board.Run(ctx) }()
	wait.Within(t, 30*time.Second, "the board read the shared topic", d.board.Synced)
	return c, cfg, d
}

// TestReadersDocumentOnlyWhenChanged: the readers share's provider gives
// this replica's document (readers.Tracker.Document, as before) on the
// first round and whenever the tracker learned something or the
// leadership changed, until the broker has it; idle rounds give none.
func TestReadersDocumentOnlyWhenChanged(t *testing.T) {
	t.Parallel()
	c, cfg, d := boardOnly(t)
	ctx := context.Background()
	published := func(what string, leader bool) {
		t.Helper()
		doc, ok := d.readersDocument()
		if !ok {
			t.Fatalf("%s: no document", what)
		}
		if !equalJSON(t, doc, d.readers.Document(leader, true)) {
			t.Fatalf("%s: document %s, want %s", what, mustJSON(t, doc), mustJSON(t, d.readers.Document(leader, true)))
		}
		if _, ok := d.readersDocument(); !ok {
			t.Fatalf("%s: no document again before the broker had it", what)
		}
		if err := d.board.Publish(ctx, kindReaders, doc); err != nil {
			t.Fatal(err)
		}
	}
	quiet := func(what string) {
		t.Helper()
		if doc, ok := d.readersDocument(); ok {
			t.Fatalf("%s: a document although nothing changed: %s", what, mustJSON(t, doc))
		}
	}
	// the board publishes every provided kind once it has read the topic:
	// when its loop did so before the test looked, the first round is given
	d.readersShared.mu.Lock()
	sent := d.readersShared.sent
	d.readersShared.mu.Unlock()
	if !sent {
		published("first round", false)
	}
	quiet("idle")
	rec := &event.Record{Topic: "orders", Partition: 1, Offset: 7, Value: []byte(goodHuleedu), Timestamp: time.Now()}
	res := d.auditor.Check(rec)
	if res.EventType == "" {
		t.Fatal("the test record names no event type")
	}
	d.readers.Observe(rec, &res)
	published("an indexed event", false)
	quiet("idle after the event")

	col, err := lag.New(cfg.Lag, kfaketest.Client(t, c), lag.Expectations{}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.term.Store(&term{lag: col})
	published("leading", true)
	quiet("idle, leading")
	d.readers.Index.Join(time.Now(), []readers.Commit{{Group: "billing", Topic: "orders", Partition: 1, Offset: 8}})
	published("a join", true)
	quiet("idle after the join")
	d.term.Store(nil)
	published("no longer leading", false)
	quiet("idle, not leading")
}

// TestLeaderImportsEachPublicationOnce: the leader takes another replica's
// shared positions into its index before a join, decoding each of its
// publications once: a second import of the same one leaves the index as
// it was (its generation too), a new publication is imported.
func TestLeaderImportsEachPublicationOnce(t *testing.T) {
	t.Parallel()
	_, cfg, d := boardOnly(t)
	ctx := context.Background()
	other := otherBoard(t, cfg, d)
	theirs := readers.NewIndex(nil)
	publish := func(p int32) {
		t.Helper()
		theirs.Observe(&event.Record{Topic: "orders", Partition: p, Offset: 3, Timestamp: time.Now()},
			&event.Result{EventType: "order.placed", Version: "1", Source: "shop"})
		pos, _ := theirs.ExportPositions()
		if err := other.Publish(ctx, kindReaders, readers.ReplicaDoc{Positions: pos}); err != nil {
			t.Fatal(err)
		}
	}
	holds := func(p int32) bool {
		pos, _ := d.readers.Index.ExportPositions()
		for _, pp := range pos {
			if pp.Topic == "orders" && pp.Partition == p {
				return true
			}
		}
		return false
	}
	publish(0)
	wait.Within(t, 30*time.Second, "the other replica's positions imported", func() bool {
		d.importPositions()
		return holds(0)
	})
	gen := d.readers.Generation()
	d.importPositions()
	if d.readers.Generation() != gen {
		t.Error("the same publication imported again")
	}
	publish(1)
	wait.Within(t, 30*time.Second, "the new publication imported", func() bool {
		d.importPositions()
		return holds(1)
	})
}

// otherBoard runs the board of another replica ("other-replica") on d's
// shared topic until the test ends.
func otherBoard(t *testing.T, cfg *config.Config, d *daemon) *share.Board {
	t.Helper()
	bcfg := cfg.Share
	bcfg.ReplicaID = "other-replica"
	other, err := share.New(bcfg, d.base, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Declare(readersKind); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go func() { _ = other.Run(ctx) }()
	wait.Within(t, 30*time.Second, "the other board read the shared topic", other.Synced)
	return other
}

// TestNotIdempotentIsTheEstatesVerdicts: the consumer.not_idempotent
// findings the lag collector asks for every cycle are the estate's (GET
// /api/v1/types: this replica's verdicts merged with the other replicas'
// latest), also after another replica publishes a new verdict.
func TestNotIdempotentIsTheEstatesVerdicts(t *testing.T) {
	t.Parallel()
	_, cfg, d := boardOnly(t)
	ctx := context.Background()
	other := otherBoard(t, cfg, d)
	fromEstate := func() []lag.Finding {
		e, err := d.readersEstate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []lag.Finding
		for _, p := range e.Idempotency {
			if p.Verdict == readers.VerdictNotIdempotent {
				out = append(out, lag.Finding{Resource: p.Group + "@" + p.Type, Message: p.Message()})
			}
		}
		return out
	}
	relay := func(id string, dups, outputs int) readers.Chain {
		ch := readers.Chain{Events: []readers.Event{{ID: id, Type: "order.placed", Service: "shop", Topic: "orders", Offset: 7, Upstream: -1}}}
		for i := range outputs {
			ch.Events = append(ch.Events, readers.Event{ID: fmt.Sprintf("%s-out-%d", id, i), Type: "order.relayed", Service: "relay", Topic: "relayed", Upstream: 0})
		}
		ch.Redelivered = map[string]int{id: dups}
		return ch
	}
	d.readers.ObserveChain(relay("mine", 1, 2))
	theirs, err := readers.New(readers.Config{}, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	publish := func(ch readers.Chain) {
		t.Helper()
		theirs.ObserveChain(ch)
		if err := other.Publish(ctx, kindReaders, theirs.Document(false, true)); err != nil {
			t.Fatal(err)
		}
	}
	publish(relay("theirs-1", 1, 1))
	// this replica publishes its own document too, before or after it
	// reads the other's: look for the other's
	theirsRead := func(since time.Time) func() bool {
		return func() bool {
			for _, e := range d.board.Entries(kindReaders) {
				if e.Replica == "other-replica" && !e.PublishedAt.Before(since) {
					return true
				}
			}
			return false
		}
	}
	wait.Within(t, 30*time.Second, "the other replica's verdict read", theirsRead(time.Time{}))
	for round, want := range []string{"1 of 2", "1 of 2", "2 of 3"} { // duplicated of redelivered, both replicas
		if round == 2 {
			before := time.Now()
			publish(relay("theirs-2", 2, 3)) // duplicate effects there too
			wait.Within(t, 30*time.Second, "the other replica's new verdict read", theirsRead(before))
		}
		got, est := d.notIdempotent(), fromEstate()
		if !equalJSON(t, got, est) {
			t.Fatalf("round %d: findings %+v, the estate's %+v", round, got, est)
		}
		if len(got) != 1 || got[0].Resource != "relay@order.placed" || !strings.Contains(got[0].Message, ": "+want+" redelivered inputs") {
			t.Fatalf("round %d: findings %+v, want relay@order.placed with %s redelivered inputs", round, got, want)
		}
	}
}
