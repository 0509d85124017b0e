package share

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// groupsKind is a kind shaped like the daemon's groups document.
var groupsKind = Kind{Name: "groups", Single: true, Splits: []Split{{Path: "page.groups", Key: []string{"group"}}}}

type testGroup struct {
	Group string `json:"group"`
	Lag   int    `json:"lag"`
	Pad   string `json:"pad,omitempty"`
}

type testPage struct {
	Cycle  int         `json:"cycle"`
	Groups []testGroup `json:"groups"`
}

type testDoc struct {
	Page testPage `json:"page"`
}

func makeDoc(n int) testDoc {
	d := testDoc{Page: testPage{Cycle: 1}}
	for i := range n {
		d.Page.Groups = append(d.Page.Groups, testGroup{Group: fmt.Sprintf("g%04d", i), Lag: i})
	}
	return d
}

// itemBoard runs a board with groupsKind declared on topic, returning it
// and its registry.
func itemBoard(t *testing.T, c *kfake.Cluster, id, topic string) (*Board, *prometheus.Registry) {
	t.Helper()
	return kindBoard(t, c, id, topic, groupsKind)
}

// kindBoard runs a board with k declared on topic, returning it and its
// registry.
func kindBoard(t *testing.T, c *kfake.Cluster, id, topic string, k Kind) (*Board, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	b, err := New(Config{ReplicaID: id, Topic: topic, Interval: time.Hour, StaleAfter: 2 * time.Hour},
		[]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Declare(k); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	wait.Within(t, 15*time.Second, id+" synced", b.Synced)
	return b, reg
}

func published(b *Board, kind string) int {
	return int(testutil.ToFloat64(b.records.WithLabelValues(kind)))
}

// sees reports whether b holds replica's document equal to want's JSON.
func sees(b *Board, replica string, want any) bool {
	raw, _ := json.Marshal(want)
	for _, e := range b.Entries("groups") {
		if e.Replica == replica && bytes.Equal(e.Doc, raw) {
			return true
		}
	}
	return false
}

func TestItemsPublishedOnlyWhenChanged(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	a, _ := itemBoard(t, c, "a", "state")
	r, _ := itemBoard(t, c, "r", "state")
	ctx := context.Background()
	doc := makeDoc(200)
	if err := a.Publish(ctx, "groups", doc); err != nil {
		t.Fatal(err)
	}
	if got := published(a, "groups"); got != 201 {
		t.Errorf("first publication wrote %d records, want 200 items and a head", got)
	}
	wait.Within(t, 15*time.Second, "reader sees the document", func() bool { return sees(r, "a", doc) })

	// The same document again: nothing at all is written.
	if err := a.Publish(ctx, "groups", doc); err != nil {
		t.Fatal(err)
	}
	if got := published(a, "groups"); got != 201 {
		t.Errorf("an unchanged document wrote %d records", got-201)
	}

	// One group changes, one disappears, one is new, the head changes.
	doc.Page.Cycle = 2
	doc.Page.Groups[5].Lag = 99
	doc.Page.Groups = append(doc.Page.Groups[:10], doc.Page.Groups[11:]...)
	doc.Page.Groups = append(doc.Page.Groups, testGroup{Group: "zz", Lag: 1})
	if err := a.Publish(ctx, "groups", doc); err != nil {
		t.Fatal(err)
	}
	if got := published(a, "groups") - 201; got != 4 {
		t.Errorf("a change of three items wrote %d records, want 4 (changed, tombstone, new, head)", got)
	}
	wait.Within(t, 15*time.Second, "reader sees the change", func() bool { return sees(r, "a", doc) })

	// A board that starts now builds the same document from the topic.
	late, _ := itemBoard(t, c, "late", "state")
	if !sees(late, "a", doc) {
		t.Errorf("late reader: %s", late.Entries("groups")[0].Doc)
	}
}

func TestRestartedPublisherWritesOnlyTheDifference(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	ctx := context.Background()
	doc := makeDoc(50)
	first, _ := itemBoard(t, c, "x", "state")
	if err := first.Publish(ctx, "groups", doc); err != nil {
		t.Fatal(err)
	}
	// A second process under the same replica id reads what is there.
	second, _ := itemBoard(t, c, "x", "state")
	wait.Within(t, 15*time.Second, "second sees the first's document", func() bool { return sees(second, "x", doc) })
	doc.Page.Groups = doc.Page.Groups[1:]
	if err := second.Publish(ctx, "groups", doc); err != nil {
		t.Fatal(err)
	}
	if got := published(second, "groups"); got != 2 {
		t.Errorf("restarted publisher wrote %d records, want a tombstone and a head", got)
	}
	wait.Within(t, 15*time.Second, "first sees the second's version", func() bool { return sees(first, "x", doc) })
}

// smallTopicBoards runs a publisher and a reader on a compacted topic
// whose max.message.bytes is limit.
func smallTopicBoards(t *testing.T, limit int) (a, r *Board) {
	t.Helper()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	adm := kadm.NewClient(kfaketest.Client(t, c))
	if _, err := adm.CreateTopic(context.Background(), 1, 1, map[string]*string{"cleanup.policy": ptr("compact"),
		"max.message.bytes": ptr(fmt.Sprint(limit))}, "small"); err != nil {
		t.Fatal(err)
	}
	a, _ = itemBoard(t, c, "a", "small")
	r, _ = itemBoard(t, c, "r", "small")
	return a, r
}

func TestLargeItemsAreCutToTheTopicLimit(t *testing.T) {
	const limit = 4096
	a, r := smallTopicBoards(t, limit)
	doc := makeDoc(30)
	doc.Page.Groups[3].Pad = strings.Repeat("x", 20_000)  // 20 parts of 1 KiB
	doc.Page.Groups[7].Pad = strings.Repeat("y", 200_000) // more than 64 parts: left out
	if err := a.Publish(context.Background(), "groups", doc); err != nil {
		t.Fatal(err)
	}
	if a.recordBudget() != limit/4 {
		t.Errorf("record budget %d, want %d", a.recordBudget(), limit/4)
	}
	if got := testutil.ToFloat64(a.splitItems.WithLabelValues("groups")); got != 1 {
		t.Errorf("split items %v, want 1", got)
	}
	if got := testutil.ToFloat64(a.omittedItems.WithLabelValues("groups")); got != 1 {
		t.Errorf("omitted items %v, want 1", got)
	}
	want := doc
	want.Page.Groups = append(append([]testGroup{}, doc.Page.Groups[:7]...), doc.Page.Groups[8:]...)
	wait.Within(t, 15*time.Second, "reader joins the parts", func() bool { return sees(r, "a", want) })
	e, _ := r.Newest("groups")
	if e.Incomplete != 1 {
		t.Errorf("reader counts %d missing items, want the omitted one", e.Incomplete)
	}
	// The gauge says so as soon as the view does (the interval is an hour).
	wait.Within(t, 5*time.Second, "missing-items gauge follows the view", func() bool {
		return testutil.ToFloat64(r.missing.WithLabelValues("groups")) == 1
	})
	if largest := a.LargestRecord("groups"); largest > limit/4+200 {
		t.Errorf("largest record %d bytes, budget %d", largest, limit/4)
	}
	// Shrinking the large item deletes its surplus parts.
	doc.Page.Groups[3].Pad = "small"
	doc.Page.Groups[7].Pad = ""
	if err := a.Publish(context.Background(), "groups", doc); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 15*time.Second, "reader sees the shrunk item", func() bool { return sees(r, "a", doc) })
	if e, _ := r.Newest("groups"); e.Incomplete != 0 {
		t.Errorf("reader still counts %d missing items", e.Incomplete)
	}
	wait.Within(t, 5*time.Second, "missing-items gauge back to 0", func() bool {
		return testutil.ToFloat64(r.missing.WithLabelValues("groups")) == 0
	})
}

// TestOmittedItemPassedAsUnchanged: an item left out as too large may be
// passed as unchanged by a Presplit document (it rendered it and holds its
// hash): the board still leaves it out and names it, without marshalling
// the document whole every cycle; a smaller version of it is written.
func TestOmittedItemPassedAsUnchanged(t *testing.T) {
	a, r := smallTopicBoards(t, 4096)
	ctx := context.Background()
	doc := makeDoc(10)
	doc.Page.Groups[7].Pad = strings.Repeat("y", 200_000) // more than 64 parts: left out
	marshalled := 0
	if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc, onRender: func(string) {}, marshalled: &marshalled}); err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{}
	for _, g := range doc.Page.Groups {
		all[g.Group] = true
	}
	before := published(a, "groups")
	for range 3 {
		if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc, same: all, marshalled: &marshalled}); err != nil {
			t.Fatal(err)
		}
	}
	if marshalled != 0 {
		t.Errorf("the document was marshalled whole %d times, want none", marshalled)
	}
	if got := published(a, "groups") - before; got != 0 {
		t.Errorf("three unchanged versions wrote %d records", got)
	}
	if got := testutil.ToFloat64(a.omittedItems.WithLabelValues("groups")); got != 4 {
		t.Errorf("omitted items %v, want the large item once per publication (4)", got)
	}
	want := doc
	want.Page.Groups = append(append([]testGroup{}, doc.Page.Groups[:7]...), doc.Page.Groups[8:]...)
	wait.Within(t, 15*time.Second, "the reader sees the document without the large item", func() bool { return sees(r, "a", want) })
	if e, _ := r.Newest("groups"); e.Incomplete != 1 {
		t.Errorf("reader counts %d missing items, want the omitted one", e.Incomplete)
	}

	doc.Page.Groups[7].Pad = "small now"
	same := maps.Clone(all)
	delete(same, "g0007")
	if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc, same: same, onRender: func(string) {}, marshalled: &marshalled}); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 15*time.Second, "the reader sees the smaller item", func() bool { return sees(r, "a", doc) })
	if marshalled != 0 {
		t.Errorf("the document was marshalled whole %d times, want none", marshalled)
	}
}

func TestSingleKindDeletesStaleDocuments(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	old, _ := itemBoard(t, c, "old", "state")
	old.now = func() time.Time { return time.Now().Add(-3 * time.Hour) } // published long ago: stale
	if err := old.Publish(context.Background(), "groups", makeDoc(5)); err != nil {
		t.Fatal(err)
	}
	leader, _ := itemBoard(t, c, "new", "state")
	wait.Within(t, 15*time.Second, "new sees old", func() bool { return len(leader.Entries("groups")) == 1 })
	if err := leader.Publish(context.Background(), "groups", makeDoc(3)); err != nil {
		t.Fatal(err)
	}
	late, _ := itemBoard(t, c, "late", "state")
	if es := late.Entries("groups"); len(es) != 1 || es[0].Replica != "new" {
		t.Errorf("entries after the new leader published: %+v, want only new's", es)
	}
}

// TestChangedItemsAreWrittenAChunkAtATime: a document whose items all
// changed (4 MB) is rendered, written and let go a chunk at a time: when
// an item is rendered, at most one chunk (1 MiB) of rendered items is not
// yet on the topic; every item is rendered once; readers see the document whole.
// A version whose items the topic holds renders them and writes nothing.
func TestChangedItemsAreWrittenAChunkAtATime(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	a, _ := itemBoard(t, c, "a", "state")
	r, _ := itemBoard(t, c, "r", "state")
	ctx := context.Background()
	const items, pad = 40, 100 << 10 // 4 MB: four chunks
	doc := makeDoc(items)
	for i := range doc.Page.Groups {
		doc.Page.Groups[i].Pad = strings.Repeat(string(rune('a'+i%26)), pad)
	}
	perChunk := (1<<20)/pad + 1 // a chunk is 1 MiB of item values
	renders, most := map[string]int{}, 0
	onRender := func(key string) {
		renders[key]++
		most = max(most, len(renders)-published(a, "groups"))
	}
	if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc, onRender: onRender}); err != nil {
		t.Fatal(err)
	}
	if len(renders) != items {
		t.Errorf("%d of %d items rendered", len(renders), items)
	}
	for k, n := range renders {
		if n != 1 {
			t.Errorf("item %s rendered %d times", k, n)
		}
	}
	if most > perChunk {
		t.Errorf("up to %d rendered items were held before they were written, want at most a chunk (%d)", most, perChunk)
	}
	if got := published(a, "groups"); got != items+1 {
		t.Errorf("wrote %d records, want %d items and a head", got, items+1)
	}
	wait.Within(t, 15*time.Second, "the reader sees the document whole", func() bool { return sees(r, "a", doc) })

	clear(renders)
	if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc, onRender: onRender}); err != nil {
		t.Fatal(err)
	}
	if got := published(a, "groups"); got != items+1 {
		t.Errorf("the same items rendered again wrote %d records", got-items-1)
	}
}
