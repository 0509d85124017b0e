package daemon

import (
	"fmt"
	"time"

	"github.com/eventwatch/eventwatch/internal/share"
)

// Kinds of the state documents the daemon shares (package share).
const (
	kindFlows    = "flows"    // every replica: the chains it closed, the events it sampled
	kindGroups   = "groups"   // the leader: its consumer-group page as /api/v1/groups renders it
	kindAsyncAPI = "asyncapi" // every replica: what it learned for the AsyncAPI discovery (catalog.ReplicaDoc)
)

// groupsKind is how the leader's groups page is shared: one record per
// group, DLQ, cluster violation, poison pill and sampled topic's coverage
// (groupsDoc cuts itself along these, share.Presplit), so the head that
// is published every cycle stays small (the coverage of every sampled
// topic made it 28 KB at 10,000 partitions, 140 KB at 50,000).
var groupsKind = share.Kind{Name: kindGroups, Single: true, SelfServed: true, Splits: []share.Split{
	{Path: "page.groups", Key: []string{"group"}},
	{Path: "coverage.topics", Key: []string{"topic"}},
	{Path: "page.dlqs", Key: []string{"topic"}},
	{Path: "page.violations", Key: []string{"rule", "resource"}},
	{Path: "poison_pills", Key: []string{"group", "topic", "partition"}},
}}

// readersKind is how each replica shares who reads what: one record per
// type and version's stats, per partition's positions (topic, partition)
// and per type and version's readers (the leader's).
var readersKind = share.Kind{Name: kindReaders, Splits: []share.Split{
	{Path: "stats", Key: []string{"type", "version"}},
	{Path: "positions", Key: []string{"t", "p"}},
	{Path: "readers"},
}}

// sharedKind is one kind of shared document: how it is cut into records
// (share.Kind) and who provides it every share.interval.
type sharedKind struct {
	share.Kind
	provide share.Provider
}

// sharedKinds is every document the daemon shares, in one place: a new
// kind is one entry here (its name, the members shared item by item with
// the members that key them, and its provider) plus the code that reads
// it with d.board.Entries or Newest. See docs/development.md.
func (d *daemon) sharedKinds(flows *flowsShare) []sharedKind {
	return []sharedKind{
		{groupsKind, d.groupsDocument},
		{share.Kind{Name: kindFlows, Splits: []share.Split{
			{Path: "pathways"}, {Path: "hops"}, {Path: "propagation"},
		}}, flows.document},
		{share.Kind{Name: kindAsyncAPI, Splits: []share.Split{
			{Path: "state.types", Key: []string{"type", "version"}},
			{Path: "state.topics", Key: []string{"topic"}},
			{Path: "cluster.topics", Key: []string{"topic"}},
			{Path: "cluster.groups", Key: []string{"group"}},
		}}, d.estates.document},
		{readersKind, d.readersDocument},
	}
}

// shareState declares and provides the shared documents on the board and,
// with routing on, makes the stitcher publish its flows before it marks
// chains.
func (d *daemon) shareState() error {
	fs := &flowsShare{d: d, started: time.Now()}
	d.estates = &estateShare{d: d, started: time.Now()}
	for _, k := range d.sharedKinds(fs) {
		if err := d.board.Declare(k.Kind); err != nil {
			return fmt.Errorf("declare shared kind: %w", err)
		}
		d.board.Provide(k.Name, k.provide)
	}
	d.stitcher.ServeMerged(fs.report)
	if d.cfg.Trace.Spans.Enabled {
		d.stitcher.EnableSpanTopic(d.base)
	}
	if d.cfg.Trace.Routing.On() {
		d.stitcher.EnableRouting(d.base)
		d.stitcher.PublishWith(fs.publishNow)
	}
	return nil
}
