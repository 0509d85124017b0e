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
	// dropped: item record key -> hash of the version left out as too
	// large, so that a Presplit document may pass it as unchanged
	dropped map[string]uint64
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

// errUnchangedUnknown: a Presplit document passed an item as unchanged
// (Item.Sum, no JSON) that the topic does not hold in that version and
// that was not left out as too large in that version either.
var errUnchangedUnknown = errors.New("an item passed as unchanged is not on the topic in that version")

// chunkBytes bounds the item values one produce request of a publication
// carries. Changed items are rendered (Item.Render), written and let go a
// chunk at a time, so that a document whose items all change at once (the
// groups page while the leader's status window fills: about 8 MB at 10k
// partitions, every cycle for the window's first ten) costs the
// publisher's heap about one chunk instead of the whole document with its
// records, which the garbage collector's heap goal doubled in RSS.
const chunkBytes = 1 << 20

// plan is what a new version holds besides its changed items: the item
// record keys per split path (in the items' order), the items per path,
// and the record keys of the items it no longer has.
type plan struct {
	bases    map[string][]string
	counts   map[string]int
	vanished []string
}

// plan checks the items of a new version against what the topic holds
// (pubState.holds), and forgets the left-out versions of items the new
// version no longer has: it fails with errUnchangedUnknown when an item
// passed as unchanged is neither on the topic nor left out in that
// version.
func (b *Board) plan(st *pubState, kind string, items map[string][]item) (*plan, error) {
	pl := &plan{bases: make(map[string][]string, len(items)), counts: make(map[string]int, len(items))}
	seen := make(map[string]bool, len(st.items))
	for path, its := range items {
		pl.counts[path] = len(its)
		bases := make([]string, len(its))
		for i, it := range its {
			base := itemRecordKey(kind, b.id, path, it.key)
			bases[i], seen[base] = base, true
			if it.unchanged && !st.holds(base, it.sum) {
				return nil, fmt.Errorf("%s item %q: %w", kind, it.key, errUnchangedUnknown)
			}
		}
		pl.bases[path] = bases
	}
	for base := range st.items {
		if !seen[base] {
			pl.vanished = append(pl.vanished, base)
		}
	}
	for base := range st.dropped {
		if !seen[base] {
			delete(st.dropped, base)
		}
	}
	return pl, nil
}

// holds reports whether the topic has the version of an item whose JSON
// hashes to sum, or that version was left out as too large (it still is).
func (st *pubState) holds(base string, sum uint64) bool {
	if prev, had := st.items[base]; had && prev.sum == sum && prev.parts > 0 {
		return true
	}
	d, had := st.dropped[base]
	return had && d == sum
}

// itemWriter writes the records that change the topic to a new version:
// changed or new items (rendered when they are written), the tombstones
// of parts they no longer take and of vanished items; a chunk at a time,
// each chunk's items recorded in the publisher's state once the broker
// has them.
type itemWriter struct {
	b       *Board
	ctx     context.Context
	kind    string
	st      *pubState
	budget  int
	recs    []*kgo.Record
	size    int                 // item value bytes in recs
	changed map[string]sentItem // item record key -> its state once recs are written (parts 0: deleted)
	omitted map[string][]string // keys of the items left out, per path
	wrote   int                 // records written
	dropped int
}

func (b *Board) itemWriter(ctx context.Context, kind string, st *pubState, budget int) *itemWriter {
	return &itemWriter{b: b, ctx: ctx, kind: kind, st: st, budget: budget,
		changed: map[string]sentItem{}, omitted: map[string][]string{}}
}

// write writes every changed item of items and the tombstones of the
// plan's vanished ones.
func (w *itemWriter) write(items map[string][]item, pl *plan) error {
	for path, its := range items {
		for i, it := range its {
			base := pl.bases[path][i]
			if it.unchanged {
				if _, left := w.st.dropped[base]; left {
					w.omit(path, it.key)
				}
				continue
			}
			if err := w.item(base, path, it); err != nil {
				return err
			}
		}
	}
	for _, base := range pl.vanished {
		w.recs = append(w.recs, tombstones(w.b.cfg.Topic, base, 0, max(w.st.items[base].parts, 1))...)
		w.changed[base] = sentItem{}
	}
	return w.flush()
}

// item adds the records of one item when its JSON is not what the topic
// holds, and writes the chunk once it is full.
func (w *itemWriter) item(base, path string, it item) error {
	raw := it.raw
	if raw == nil && it.render != nil {
		var err error
		if raw, err = it.render(); err != nil {
			return fmt.Errorf("render %s item %q: %w", w.kind, it.key, err)
		}
	}
	sum := xxhash.Sum64(raw)
	prev, had := w.st.items[base]
	if had && prev.sum == sum && prev.parts > 0 {
		return nil
	}
	recs := encodeValue(w.b.cfg.Topic, base, raw, w.budget)
	switch {
	case recs == nil:
		w.omit(path, it.key)
		if w.st.dropped == nil {
			w.st.dropped = map[string]uint64{}
		}
		w.st.dropped[base] = sum
		if had {
			w.recs = append(w.recs, tombstones(w.b.cfg.Topic, base, 0, max(prev.parts, 1))...)
			w.changed[base] = sentItem{}
		}
		return nil
	case len(recs) > 1:
		w.b.splitItems.WithLabelValues(w.kind).Inc()
	}
	w.recs = append(w.recs, recs...)
	w.size += len(raw)
	if had && prev.parts > len(recs) {
		w.recs = append(w.recs, tombstones(w.b.cfg.Topic, base, len(recs), prev.parts)...)
	}
	w.changed[base] = sentItem{sum: sum, parts: len(recs)}
	if w.size >= chunkBytes {
		return w.flush()
	}
	return nil
}

// omit counts an item left out as too large and names it in the head.
func (w *itemWriter) omit(path, key string) {
	w.dropped++
	w.b.omittedItems.WithLabelValues(w.kind).Inc()
	if len(w.omitted[path]) < maxOmittedNames {
		w.omitted[path] = append(w.omitted[path], key)
	}
}

// flush produces the chunk and records what the broker took.
func (w *itemWriter) flush() error {
	if len(w.recs) == 0 {
		return nil
	}
	if err := w.b.produce(w.ctx, w.kind, w.recs); err != nil {
		return err
	}
	for base, s := range w.changed {
		if s.parts == 0 {
			delete(w.st.items, base)
		} else {
			w.st.items[base] = s
			delete(w.st.dropped, base)
		}
	}
	w.wrote += len(w.recs)
	w.recs, w.size = nil, 0
	clear(w.changed)
	return nil
}

// publish writes doc as this replica's document of kind: the changed
// items, tombstones for vanished ones, then the head. Nothing is written
// when nothing changed and the last head is younger than two heartbeats:
// the heartbeat of an unchanged document is beat's, with the other kinds'
// heads in one call (this is the safety net, still short of stale_after).
// Items written before a failure stay written (readers stage them until
// a head); the next publication writes the rest.
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
	pl, err := b.plan(st, kind, items)
	if errors.Is(err, errUnchangedUnknown) {
		b.log.Debug("presplit document passed an item as unchanged that the topic does not hold; marshalling it whole", "kind", kind, "err", err)
		if head, items, err = b.cutWhole(k, doc); err != nil {
			return fmt.Errorf("split %s document: %w", kind, err)
		}
		pl, err = b.plan(st, kind, items)
	}
	if err != nil {
		return fmt.Errorf("split %s document: %w", kind, err)
	}
	w := b.itemWriter(ctx, kind, st, budget)
	if err := w.write(items, pl); err != nil {
		return err
	}
	if w.wrote == 0 && bytes.Equal(head, st.head) && maps.EqualFunc(w.omitted, st.omitted, slices.Equal) &&
		b.now().Sub(st.headAt) < 2*b.heartbeat() {
		return nil
	}
	if w.dropped > 0 {
		b.log.Warn("shared items too large even in parts: left out (named in the document's head)",
			"kind", kind, "items", w.dropped, "record_budget", budget, "omitted", w.omitted)
	}
	hv := headValue{Kind: kind, Replica: b.id, PublishedAt: b.now().UTC(), Doc: head, Items: pl.counts, Omitted: w.omitted}
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
