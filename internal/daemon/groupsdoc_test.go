package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/share"
)

// TestGroupsDocCutsLikeItsJSON: the groups document's own cut (ShareSplit)
// is exactly what splitting its marshalled JSON gives — head and every
// item byte for byte, keys equal — for groups whose names JSON escapes or
// are not valid UTF-8, with and without partition rows, DLQs, cluster
// violations and poison pills; and with no groups at all.
func TestGroupsDocCutsLikeItsJSON(t *testing.T) {
	names := []string{"a<b>&c", "billing", "caf\u00e9-readers", "orders\"quoted\"", "z\xff-bad-utf8"}
	snap := &lag.Snapshot{Time: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Cycle: 7, Success: true, Objective: 60, Window: 5,
		DLQs:       []lag.DLQ{{Topic: "orders.dlq", SourceService: "orders", DepthRecords: 3}},
		Violations: []lag.Violation{{Rule: "topic.replication_factor", Resource: "orders", Severity: "error", Message: "rf 1"}}}
	for i, n := range names {
		g := lag.GroupLag{Group: n, Status: lag.StatusWarn, LagRecords: int64(i * 10), LagSeconds: lag.Seconds(float64(i) * 1.5),
			DrainSeconds: lag.Seconds(math.NaN()), TimeToLoss: lag.Seconds(math.NaN())}
		for j := range 3 {
			tl := lag.TopicLag{Topic: fmt.Sprintf("t%d", j), LagRecords: int64(j), LagSeconds: lag.Seconds(math.NaN()),
				ConsumeRate: lag.Rate(math.NaN()), ProduceRate: lag.Rate(math.NaN()), DrainSeconds: lag.Seconds(math.NaN()), TimeToLoss: lag.Seconds(math.NaN())}
			if i%2 == 0 {
				tl.Partitions = []lag.PartitionLag{{Partition: 0, Committed: 4, End: 9, LagRecords: 5}}
			}
			g.Topics = append(g.Topics, tl)
		}
		snap.Groups = append(snap.Groups, g)
	}
	pills := []dlq.Pill{{Group: "billing", Topic: "t0", Partition: 0, Offset: 4}}
	cov := &lag.Coverage{Group: "eventwatch", Known: true, Members: 2, Partitions: 40, Unowned: 1, Unaudited: 1}
	for i := range 20 {
		cov.Topics = append(cov.Topics, lag.CoverageTopic{Topic: fmt.Sprintf("sampled.t%02d", i), Partitions: 2})
	}
	for name, s := range map[string]*lag.Snapshot{"estate": snap, "no groups": {Time: snap.Time, Cycle: 1}} {
		doc := groupsDoc{Cycle: s.Cycle, Coverage: cov, snap: s, Poison: pills, rendered: &renderedGroups{}}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		wantHead, wantItems, err := groupsKind.Split(raw)
		if err != nil {
			t.Fatal(err)
		}
		head, items, err := doc.ShareSplit()
		if err != nil {
			t.Fatal(err)
		}
		renderItems(t, items["page.groups"])
		if !bytes.Equal(head, wantHead) {
			t.Errorf("%s: head\n%s\nwant\n%s", name, head, wantHead)
		}
		for _, path := range []string{"page.groups", "page.dlqs", "page.violations", "poison_pills", "coverage.topics"} {
			if !slices.EqualFunc(items[path], wantItems[path], sameItem) {
				t.Errorf("%s: items of %s\n%s\nwant\n%s", name, path, itemsText(items[path]), itemsText(wantItems[path]))
			}
		}
		// the head, published every cycle, carries the coverage's totals;
		// each sampled topic's coverage is an item, published when it changes
		if n := len(items["coverage.topics"]); n != len(cov.Topics) {
			t.Errorf("%s: %d coverage items, want one per sampled topic (%d)", name, n, len(cov.Topics))
		}
		if bytes.Contains(head, []byte("sampled.t")) || !bytes.Contains(head, []byte(`"unaudited_partitions":1`)) {
			t.Errorf("%s: head holds the topics' coverage or lost its totals: %s", name, head)
		}
	}
	// the next cycle: one group changed and is rendered again; the others
	// are passed as unchanged, by the hash of the JSON the document gives
	rendered := &renderedGroups{}
	_, first, err := (groupsDoc{Cycle: snap.Cycle, snap: snap, rendered: rendered}).ShareSplit()
	if err != nil {
		t.Fatal(err)
	}
	renderItems(t, first["page.groups"]) // as the board does when it writes them
	next := *snap
	next.Cycle++
	next.Groups = slices.Clone(snap.Groups)
	next.Groups[1].LagRecords += 100
	doc := groupsDoc{Cycle: next.Cycle, snap: &next, rendered: rendered}
	_, wantItems, err := groupsKind.Split(mustJSON(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	_, items, err := doc.ShareSplit()
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items["page.groups"] {
		if changed := i == 1; changed != (it.Render != nil) {
			t.Errorf("group %d (%s): rendered %t, want %t (only the changed group is rendered again)", i, it.Key, it.Render != nil, changed)
		}
	}
	renderItems(t, items["page.groups"])
	if !slices.EqualFunc(items["page.groups"], wantItems["page.groups"], sameItem) {
		t.Errorf("next cycle's groups\n%s\nwant\n%s", itemsText(items["page.groups"]), itemsText(wantItems["page.groups"]))
	}
	if !bytes.Contains(items["page.groups"][1].JSON, []byte(`\"lag_records\":110`)) { // in its template
		t.Errorf("the changed group was not rendered again: %s", items["page.groups"][1].JSON)
	}
	if n := len(snap.Groups); n != len(names) || !bytes.Contains(mustJSON(t, groupsDoc{snap: snap}), []byte(`"page":{`)) {
		t.Fatalf("the document's JSON lost its page")
	}
}

// renderItems renders the items that are rendered when the board writes them
// (share.Item.Render), as the board does.
func renderItems(t *testing.T, items []share.Item) {
	t.Helper()
	for i := range items {
		if items[i].Render == nil {
			continue
		}
		js, err := items[i].Render()
		if err != nil {
			t.Fatal(err)
		}
		items[i].JSON = js
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// sameItem: a is want (JSON, or Sum standing for JSON it did not render
// again), under the same key.
func sameItem(a, want share.Item) bool {
	if a.Key != want.Key {
		return false
	}
	if a.JSON == nil {
		return a.Sum == xxhash.Sum64(want.JSON)
	}
	return bytes.Equal(a.JSON, want.JSON)
}

func itemsText(items []share.Item) string {
	var b strings.Builder
	for _, it := range items {
		if it.JSON == nil {
			fmt.Fprintf(&b, "%s: unchanged %x\n", it.Key, it.Sum)
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", it.Key, it.JSON)
	}
	return b.String()
}

// TestUnwrittenGroupsAreRenderedAgain: a group whose item the board did
// not render (its publication failed before the item's chunk) is rendered
// again the next cycle, though its facts did not change; the ones it
// rendered are passed as unchanged.
func TestUnwrittenGroupsAreRenderedAgain(t *testing.T) {
	snap := &lag.Snapshot{Time: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Cycle: 1, Success: true, Objective: 60, Window: 5}
	for i := range 6 {
		snap.Groups = append(snap.Groups, lag.GroupLag{Group: fmt.Sprintf("g%d", i), Status: lag.StatusOK, LagRecords: int64(i),
			DrainSeconds: lag.Seconds(math.NaN()), TimeToLoss: lag.Seconds(math.NaN())})
	}
	rendered := &renderedGroups{}
	_, first, err := (groupsDoc{Cycle: 1, snap: snap, rendered: rendered}).ShareSplit()
	if err != nil {
		t.Fatal(err)
	}
	renderItems(t, first["page.groups"][:3]) // the publication stopped after three
	next := *snap
	next.Cycle = 2
	_, items, err := (groupsDoc{Cycle: 2, snap: &next, rendered: rendered}).ShareSplit()
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items["page.groups"] {
		if again := i >= 3; again != (it.Render != nil) {
			t.Errorf("group %s: rendered again %t, want %t", it.Key, it.Render != nil, again)
		}
		if i < 3 && it.Sum != xxhash.Sum64(first["page.groups"][i].JSON) {
			t.Errorf("group %s passed as unchanged with sum %x, want its rendered item's", it.Key, it.Sum)
		}
	}
}
