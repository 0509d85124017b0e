package share

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// selfServedBoard runs a board with groupsKind declared SelfServed.
func selfServedBoard(t *testing.T, c *kfake.Cluster, id string) *Board {
	t.Helper()
	k := groupsKind
	k.SelfServed = true
	b, _ := kindBoard(t, c, id, "state", k)
	return b
}

// ownItemBytes is how many item bytes b holds of its own document of kind.
func ownItemBytes(b *Board, kind string) (items, bytes int) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	s := b.docs[kind][b.id]
	if s == nil {
		return 0, 0
	}
	for _, byKey := range s.items {
		for _, it := range byKey {
			items++
			bytes += len(it.raw)
		}
	}
	return items, bytes
}

// TestSelfServedKeepsOnlyHashesOfItsOwn: the publisher of a SelfServed
// kind keeps its own items as hashes (no bytes) while a reader holds the
// whole document; the hashes are enough to publish only the difference
// after Retire (a vanished item is tombstoned, so readers never show it;
// an unchanged item written in parts is not written again);
// and a process started later under the same replica id reads the
// document it finds on the topic whole.
func TestSelfServedKeepsOnlyHashesOfItsOwn(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	a := selfServedBoard(t, c, "a")
	r, _ := itemBoard(t, c, "r", "state")
	ctx := context.Background()
	doc := makeDoc(100)
	doc.Page.Groups[0].Pad = strings.Repeat("x", 600<<10) // written in parts
	if err := a.Publish(ctx, "groups", doc); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 15*time.Second, "the reader sees the document", func() bool { return sees(r, "a", doc) })
	wait.Within(t, 15*time.Second, "the publisher reads its own document back", func() bool { n, _ := ownItemBytes(a, "groups"); return n == 100 })
	if n, size := ownItemBytes(a, "groups"); size != 0 {
		t.Errorf("the publisher holds %d bytes of its own %d items, want hashes only", size, n)
	}
	if got := a.Entries("groups"); len(got) != 0 {
		t.Errorf("the publisher lists %d documents of its own, want none (bodiless)", len(got))
	}
	if _, ok := a.ViewAge("groups"); !ok {
		t.Error("the publisher has no view age of its own document")
	}

	// A new term: the publisher starts again from what the topic holds.
	a.Retire("groups")
	before := published(a, "groups")
	doc.Page.Cycle = 2
	doc.Page.Groups[3].Lag = 1000
	doc.Page.Groups = append(doc.Page.Groups[:7], doc.Page.Groups[8:]...)
	if err := a.Publish(ctx, "groups", doc); err != nil {
		t.Fatal(err)
	}
	if got := published(a, "groups") - before; got != 3 {
		t.Errorf("republishing after Retire wrote %d records, want 3 (the changed item, a tombstone, the head)", got)
	}
	wait.Within(t, 15*time.Second, "the reader sees exactly the new version", func() bool { return sees(r, "a", doc) })

	// A restarted process under the same id holds what it finds whole.
	again := selfServedBoard(t, c, "a")
	if !sees(again, "a", doc) {
		t.Errorf("a restarted publisher does not see its earlier document whole: %+v", again.Entries("groups"))
	}
}

// sumDoc is a Presplit document that passes the items named in same as
// unchanged (their Sum, no JSON), with sums (when set) standing for what
// it believes the topic holds; with onRender, it passes the others as
// rendered when written (Item.Render), calling onRender first.
type sumDoc struct {
	testDoc
	same       map[string]bool
	sums       map[string]uint64
	onRender   func(key string)
	marshalled *int // counts the board's marshalling of the whole document, when set
}

func (d sumDoc) MarshalJSON() ([]byte, error) {
	if d.marshalled != nil {
		*d.marshalled++
	}
	return json.Marshal(d.testDoc)
}

func (d sumDoc) ShareSplit() ([]byte, map[string][]Item, error) {
	raw, err := json.Marshal(d.testDoc)
	if err != nil {
		return nil, nil, err
	}
	head, items, err := groupsKind.Split(raw)
	if err != nil {
		return nil, nil, err
	}
	for i, it := range items["page.groups"] {
		switch {
		case d.same[it.Key]:
			sum, ok := d.sums[it.Key]
			if !ok {
				sum = xxhash.Sum64(it.JSON)
			}
			items["page.groups"][i] = Item{Key: it.Key, Sum: sum}
		case d.onRender != nil:
			items["page.groups"][i] = Item{Key: it.Key, Render: func() ([]byte, error) { d.onRender(it.Key); return it.JSON, nil }}
		}
	}
	return head, items, nil
}

// TestUnchangedItemsPassedByHash: a Presplit document may pass items it
// already shared as unchanged (Item.Sum, no JSON): nothing is written for
// them, readers keep them; when the topic does not hold that version (a
// publication lost, a wrong belief), the board marshals the document
// whole and readers see exactly it.
func TestUnchangedItemsPassedByHash(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	a, _ := itemBoard(t, c, "a", "state")
	r, _ := itemBoard(t, c, "r", "state")
	ctx := context.Background()
	doc := makeDoc(50)
	if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc}); err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{}
	for _, g := range doc.Page.Groups {
		all[g.Group] = true
	}
	before := published(a, "groups")
	if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc, same: all}); err != nil {
		t.Fatal(err)
	}
	if got := published(a, "groups") - before; got != 0 {
		t.Errorf("a version with every item passed as unchanged wrote %d records", got)
	}

	// One item changes; the rest are passed by hash.
	doc.Page.Cycle = 2
	doc.Page.Groups[4].Lag = 400
	same := maps.Clone(all)
	delete(same, "g0004")
	before = published(a, "groups")
	if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc, same: same}); err != nil {
		t.Fatal(err)
	}
	if got := published(a, "groups") - before; got != 2 {
		t.Errorf("one changed item wrote %d records, want 2 (it and the head)", got)
	}
	wait.Within(t, 15*time.Second, "the reader sees the new version", func() bool { return sees(r, "a", doc) })

	// The document believes g0007 is shared as it is now, but the topic
	// holds another version: the board marshals the document whole.
	doc.Page.Cycle = 3
	doc.Page.Groups[7].Lag = 700
	before = published(a, "groups")
	if err := a.Publish(ctx, "groups", sumDoc{testDoc: doc, same: all}); err != nil {
		t.Fatal(err)
	}
	if got := published(a, "groups") - before; got != 2 {
		t.Errorf("a stale belief wrote %d records, want 2 (the item it left out and the head)", got)
	}
	wait.Within(t, 15*time.Second, "the reader sees the version the document holds", func() bool { return sees(r, "a", doc) })
}

// TestSelfServedHeadInParts: a SelfServed document whose head is larger
// than the record budget is written in parts; its publisher still applies
// its own head (the parts of a head are kept, only an item's are dropped).
func TestSelfServedHeadInParts(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	a, _ := kindBoard(t, c, "a", "state", Kind{Name: "big", SelfServed: true})
	r, _ := kindBoard(t, c, "r", "state", Kind{Name: "big"})
	doc := map[string]string{"pad": strings.Repeat("y", 600<<10)}
	if err := a.Publish(context.Background(), "big", doc); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 15*time.Second, "the reader to hold the document", func() bool { return len(r.Entries("big")) == 1 })
	wait.Within(t, 15*time.Second, "the publisher to apply its own head", func() bool { _, ok := a.ViewAge("big"); return ok })
}
