package share

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// sentItem is what this replica last wrote (and the broker acknowledged)
// for one item.
type sentItem struct {
	sum   uint64
	parts int
}

// pubState is what this replica has on the topic for one kind.
type pubState struct {
	items   map[string]sentItem // item record key -> what it holds
	head    []byte              // last head's document
	omitted map[string][]string
	counts  map[string]int
	headAt  time.Time // when the last head was written; zero: none
	parts   int       // records the last head took
}

// pubStateFrom is this replica's document as the board read it from the
// topic (a restarted replica does not republish what is already there).
func pubStateFrom(s *docState, kind, replica string) *pubState {
	st := &pubState{items: map[string]sentItem{}}
	if s == nil {
		return st
	}
	for path, byKey := range s.items {
		for k, it := range byKey {
			st.items[itemRecordKey(kind, replica, path, k)] = sentItem{sum: it.sum, parts: it.parts}
		}
	}
	for k, p := range s.pending { // items written after the last head: unknown content, delete if unused
		st.items[k] = sentItem{parts: max(p.part.n, 1)}
	}
	if s.head != nil {
		st.head, st.omitted, st.counts, st.headAt, st.parts = s.head.Doc, s.head.Omitted, s.head.Items, s.head.PublishedAt, 1
	}
	return st
}

// batch is the records of one publication.
type batch struct {
	items   []*kgo.Record
	changed map[string]sentItem // item key -> new state (parts 0: deleted)
	omitted map[string][]string
	counts  map[string]int
	bytes   int
	split   int
	dropped int
}

// errUnchangedUnknown: a Presplit document passed an item as unchanged
// (Item.Sum, no JSON) that the topic does not hold in that version.
var errUnchangedUnknown = errors.New("an item passed as unchanged is not on the topic in that version")

// diff turns the items of a new version into the records that change the
// topic: changed or new items, and tombstones for vanished ones. It fails
// with errUnchangedUnknown when an item without JSON is not what the
// topic holds.
func (b *Board) diff(st *pubState, kind string, items map[string][]item, budget int) (*batch, error) {
	bt := &batch{changed: map[string]sentItem{}, omitted: map[string][]string{}, counts: map[string]int{}}
	seen := make(map[string]bool, len(st.items))
	for path, its := range items {
		bt.counts[path] = len(its)
		for _, it := range its {
			base := itemRecordKey(kind, b.id, path, it.key)
			seen[base] = true
			if it.unchanged {
				if prev, had := st.items[base]; !had || prev.sum != it.sum || prev.parts == 0 {
					return nil, fmt.Errorf("%s item %q: %w", kind, it.key, errUnchangedUnknown)
				}
				continue
			}
			b.diffItem(bt, st, base, path, it, budget)
		}
	}
	for base, prev := range st.items {
		if !seen[base] {
			bt.items = append(bt.items, tombstones(b.cfg.Topic, base, 0, max(prev.parts, 1))...)
			bt.changed[base] = sentItem{}
		}
	}
	return bt, nil
}

func (b *Board) diffItem(bt *batch, st *pubState, base, path string, it item, budget int) {
	sum := xxhash.Sum64(it.raw)
	prev, had := st.items[base]
	if had && prev.sum == sum && prev.parts > 0 {
		return
	}
	recs := encodeValue(b.cfg.Topic, base, it.raw, budget)
	if recs == nil {
		bt.dropped++
		if len(bt.omitted[path]) < maxOmittedNames {
			bt.omitted[path] = append(bt.omitted[path], it.key)
		}
		if had {
			bt.items = append(bt.items, tombstones(b.cfg.Topic, base, 0, max(prev.parts, 1))...)
			bt.changed[base] = sentItem{}
		}
		return
	}
	if len(recs) > 1 {
		bt.split++
	}
	bt.items = append(bt.items, recs...)
	bt.bytes += len(it.raw)
	if had && prev.parts > len(recs) {
		bt.items = append(bt.items, tombstones(b.cfg.Topic, base, len(recs), prev.parts)...)
	}
	bt.changed[base] = sentItem{sum: sum, parts: len(recs)}
}

// publish writes doc as this replica's document of kind: the changed
// items, tombstones for vanished ones, then the head. Nothing is written
// when nothing changed and the last head is younger than two heartbeats:
// the heartbeat of an unchanged document is beat's, with the other kinds'
// heads in one call (this is the safety net, still short of stale_after).
func (b *Board) publish(ctx context.Context, kind string, doc any) error {
	k := b.kind(kind)
	head, items, err := b.cut(k, doc)
	if err != nil {
		return fmt.Errorf("split %s document: %w", kind, err)
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	st := b.pubStateOf(kind)
	budget := b.recordBudget()
	bt, err := b.diff(st, kind, items, budget)
	if errors.Is(err, errUnchangedUnknown) {
		b.log.Debug("presplit document passed an item as unchanged that the topic does not hold; marshalling it whole", "kind", kind, "err", err)
		if head, items, err = b.cutWhole(k, doc); err != nil {
			return fmt.Errorf("split %s document: %w", kind, err)
		}
		bt, err = b.diff(st, kind, items, budget)
	}
	if err != nil {
		return fmt.Errorf("split %s document: %w", kind, err)
	}
	if len(bt.items) == 0 && bytes.Equal(head, st.head) && maps.EqualFunc(bt.omitted, st.omitted, slices.Equal) &&
		b.now().Sub(st.headAt) < 2*b.heartbeat() {
		return nil
	}
	if err := b.writeItems(ctx, kind, st, bt); err != nil {
		return err
	}
	hv := headValue{Kind: kind, Replica: b.id, PublishedAt: b.now().UTC(), Doc: head, Items: bt.counts, Omitted: bt.omitted}
	if err := b.writeHead(ctx, kind, st, hv, budget); err != nil {
		return err
	}
	if k.Single {
		b.deleteStale(ctx, kind)
	}
	return nil
}

// cut is doc's head and items: as it cuts itself (Presplit), else (or
// when that fails) its JSON split along the kind's Splits.
func (b *Board) cut(k *declared, doc any) ([]byte, map[string][]item, error) {
	if p, ok := doc.(Presplit); ok {
		head, items, err := presplit(p, k)
		if err == nil {
			return head, items, nil
		}
		b.log.Debug("presplit document refused; marshalling it whole", "kind", k.Name, "err", err)
	}
	return b.cutWhole(k, doc)
}

// cutWhole is doc's JSON split along the kind's Splits.
func (b *Board) cutWhole(k *declared, doc any) ([]byte, map[string][]item, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal: %w", err)
	}
	return splitDoc(raw, k.tree)
}

// writeItems produces the item records and records what the broker took.
func (b *Board) writeItems(ctx context.Context, kind string, st *pubState, bt *batch) error {
	if bt.dropped > 0 {
		b.omittedItems.WithLabelValues(kind).Add(float64(bt.dropped))
		b.log.Warn("shared items too large even in parts: left out (named in the document's head)",
			"kind", kind, "items", bt.dropped, "record_budget", b.recordBudget(), "omitted", bt.omitted)
	}
	b.splitItems.WithLabelValues(kind).Add(float64(bt.split))
	if len(bt.items) == 0 {
		return nil
	}
	if err := b.produce(ctx, kind, bt.items); err != nil {
		return err
	}
	for base, s := range bt.changed {
		if s.parts == 0 {
			delete(st.items, base)
		} else {
			st.items[base] = s
		}
	}
	return nil
}

// writeHead produces the head record (in parts when it is larger than
// the record budget).
func (b *Board) writeHead(ctx context.Context, kind string, st *pubState, hv headValue, budget int) error {
	recs, err := b.headRecords(kind, st, hv, budget)
	if err != nil {
		return err
	}
	if err := b.produce(ctx, kind, recs); err != nil {
		return err
	}
	st.wrote(hv, len(recs))
	return nil
}

// headRecords are the records of kind's head hv: its parts, after
// tombstones for the parts of the previous head beyond them.
func (b *Board) headRecords(kind string, st *pubState, hv headValue, budget int) ([]*kgo.Record, error) {
	val, err := json.Marshal(hv)
	if err != nil {
		return nil, fmt.Errorf("marshal %s head: %w", kind, err)
	}
	base := headKey(kind, b.id)
	recs := encodeValue(b.cfg.Topic, base, val, budget)
	if recs == nil {
		b.errs.WithLabelValues(kind).Inc()
		return nil, fmt.Errorf("publish %s document: its head is %d bytes, more than %d parts of %d: share its large members item by item (Kind.Splits)", kind, len(val), maxParts, budget)
	}
	if st.parts > len(recs) {
		recs = append(tombstones(b.cfg.Topic, base, len(recs), st.parts), recs...)
	}
	return recs, nil
}

// wrote records that head hv, in parts records, is on the topic.
func (st *pubState) wrote(hv headValue, parts int) {
	st.head, st.omitted, st.counts, st.headAt, st.parts = hv.Doc, hv.Omitted, hv.Items, hv.PublishedAt, parts
}

// produce writes recs in order and waits for the broker, at most ctx's
// deadline or publishTimeout; a failure is counted for kind. A record the
// broker finds too large makes the board read the topic's limit again.
func (b *Board) produce(ctx context.Context, kind string, recs []*kgo.Record) error {
	return b.produceKinds(ctx, []kindRecords{{kind, recs}})
}

// kindRecords are records of one kind's document.
type kindRecords struct {
	kind string
	recs []*kgo.Record
}

// produceKinds writes the records of several kinds in one request (each
// kind's in order) and waits for the broker, at most ctx's deadline or
// publishTimeout; a failure is counted for every kind in it.
func (b *Board) produceKinds(ctx context.Context, batch []kindRecords) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, publishTimeout)
		defer cancel()
	}
	kinds := make([]string, len(batch))
	var all []*kgo.Record
	for i, kr := range batch {
		kinds[i] = kr.kind
		all = append(all, kr.recs...)
	}
	failed := func() {
		for _, k := range kinds {
			b.errs.WithLabelValues(k).Inc()
		}
	}
	name := strings.Join(kinds, ", ")
	select {
	case <-b.ensured:
	case <-ctx.Done():
		failed()
		return fmt.Errorf("publish %s document: topic %s not ready: %w", name, b.cfg.Topic, ctx.Err())
	}
	res := b.prod.Load().ProduceSync(ctx, all...)
	if err := res.FirstErr(); err != nil {
		failed()
		if errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) {
			b.refreshLimit(ctx)
		}
		return fmt.Errorf("publish %s document: %w", name, err)
	}
	for _, kr := range batch {
		size, largest := 0, 0
		for _, r := range kr.recs {
			size += len(r.Value)
			largest = max(largest, len(r.Key)+len(r.Value))
		}
		b.records.WithLabelValues(kr.kind).Add(float64(len(kr.recs)))
		b.bytesOut.WithLabelValues(kr.kind).Add(float64(size))
		b.noteLargest(kr.kind, largest)
	}
	return nil
}

// deleteStale removes the documents of kind other replicas left stale
// (a leader that died): tombstones for every record they have.
func (b *Board) deleteStale(ctx context.Context, kind string) {
	now := b.now()
	var recs []*kgo.Record
	b.mu.RLock()
	for replica, s := range b.docs[kind] {
		if replica == b.id || s.head == nil || now.Sub(s.head.PublishedAt) <= b.cfg.StaleAfter {
			continue
		}
		for _, k := range s.recordKeys(kind, replica) {
			recs = append(recs, &kgo.Record{Topic: b.cfg.Topic, Key: []byte(k)})
		}
		recs = append(recs, &kgo.Record{Topic: b.cfg.Topic, Key: []byte(headKey(kind, replica))})
	}
	b.mu.RUnlock()
	if len(recs) == 0 {
		return
	}
	if err := b.produce(ctx, kind, recs); err != nil {
		b.log.Warn("delete stale shared documents", "kind", kind, "err", err)
	}
}

// deleteOwn writes tombstones for every record of this replica's document
// of kind.
func (b *Board) deleteOwn(ctx context.Context, kind string) error {
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	st := b.pubStateOf(kind)
	var recs []*kgo.Record
	for base, it := range st.items {
		recs = append(recs, tombstones(b.cfg.Topic, base, 0, max(it.parts, 1))...)
	}
	recs = append(recs, tombstones(b.cfg.Topic, headKey(kind, b.id), 1, st.parts)...)
	recs = append(recs, &kgo.Record{Topic: b.cfg.Topic, Key: []byte(headKey(kind, b.id))})
	if err := b.produce(ctx, kind, recs); err != nil {
		return err
	}
	b.pub[kind] = &pubState{items: map[string]sentItem{}}
	return nil
}

// pubStateOf is the publisher state of kind, first read from the topic.
func (b *Board) pubStateOf(kind string) *pubState {
	if st := b.pub[kind]; st != nil {
		return st
	}
	b.mu.RLock()
	st := pubStateFrom(b.docs[kind][b.id], kind, b.id)
	b.mu.RUnlock()
	b.pub[kind] = st
	return st
}

// heartbeat is how often an unchanged document's head is written again,
// so readers can tell a quiet replica from a stopped one.
func (b *Board) heartbeat() time.Duration { return b.cfg.StaleAfter / 3 }
