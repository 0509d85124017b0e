package share

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// storedItem is one item of a document as the topic holds it.
type storedItem struct {
	raw   []byte // nil in a bodiless document
	sum   uint64 // xxhash of the item's JSON
	parts int    // records it takes on the topic
}

// pendingItem is an item record read after the document's last head:
// it takes effect when the next head arrives (a publisher writes the
// items of a version before its head, so a reader never shows half of
// one).
type pendingItem struct {
	path, key string
	val       []byte // nil: tombstone (unless hashed)
	part      partInfo
	// hashed: a bodiless document's item, kept as sum (of its whole
	// JSON), its bytes dropped when read
	hashed bool
	sum    uint64
}

// docState is one (kind, replica) document as read from the topic.
type docState struct {
	head    *headValue
	items   map[string]map[string]storedItem // path -> key -> item
	pending map[string]pendingItem           // record key -> latest item record since the head
	parts   map[string][]byte                // continuation part key -> value, since the head
	doc     []byte                           // assembled document; nil until asked for after a change

	incomplete int // items of the head that were missing or torn when it was applied
	// bodiless is a SelfServed document this process published: its
	// items keep their hashes, not their bytes (Kind.SelfServed).
	bodiless bool
}

func newDocState() *docState {
	return &docState{items: map[string]map[string]storedItem{}, pending: map[string]pendingItem{}, parts: map[string][]byte{}}
}

// stage keeps an item record (or a continuation part) until the head.
// Of a bodiless document (Kind.SelfServed, this process's own) it keeps
// each item's hash and drops its bytes at once: the record's value is
// part of a whole fetched batch, which it would otherwise keep.
func (s *docState) stage(rk recKey, r *kgo.Record, bodiless bool) {
	key := string(r.Key)
	if rk.part > 0 {
		switch {
		case bodiless && rk.path != "": // an item's part: its first part's header holds the whole item's hash
		case r.Value == nil:
			delete(s.parts, key)
		default:
			s.parts[key] = r.Value
		}
		return
	}
	p := pendingItem{path: rk.path, key: rk.item, val: r.Value, part: readPart(r)}
	if bodiless && r.Value != nil {
		p.hashed, p.val, p.sum = true, nil, p.part.sum
		if p.part.n <= 1 {
			p.sum = xxhash.Sum64(r.Value)
		}
	}
	s.pending[key] = p
}

// joinParts reassembles a value written in parts from its part 0; false
// when a part is missing or the whole does not match its sum.
func (s *docState) joinParts(base string, first []byte, p partInfo) ([]byte, bool) {
	if p.n <= 1 {
		return first, true
	}
	out := slices.Clone(first)
	for i := 1; i < p.n; i++ {
		chunk, ok := s.parts[partKey(base, i)]
		if !ok {
			return nil, false
		}
		out = append(out, chunk...)
	}
	return out, xxhash.Sum64(out) == p.sum
}

// applyHead makes h the current version: every staged item takes effect.
// It counts the items the head names that are missing. bodiless keeps
// only the items' hashes (a SelfServed document of this process).
func (s *docState) applyHead(h *headValue, bodiless bool) {
	for key, p := range s.pending {
		if p.val == nil && !p.hashed {
			delete(s.items[p.path], p.key)
			continue
		}
		it := storedItem{sum: p.sum, parts: max(p.part.n, 1)}
		if !p.hashed {
			val, ok := s.joinParts(key, p.val, p.part)
			if !ok {
				continue // torn: counted below as missing
			}
			it.raw, it.sum = val, xxhash.Sum64(val)
			if bodiless {
				it.raw = nil
			}
		}
		byKey := s.items[p.path]
		if byKey == nil {
			byKey = map[string]storedItem{}
			s.items[p.path] = byKey
		}
		byKey[p.key] = it
	}
	if bodiless && !s.bodiless {
		for _, byKey := range s.items { // what an earlier process published: hashes from now on
			for k, it := range byKey {
				it.raw = nil
				byKey[k] = it
			}
		}
	}
	clear(s.pending)
	clear(s.parts)
	s.head, s.doc, s.bodiless = h, nil, bodiless
	s.incomplete = 0
	for path, n := range h.Items {
		s.incomplete += max(n-len(s.items[path]), 0)
	}
}

// assembled is the document with its items in place, cached until the
// next head.
func (s *docState) assembled(tree *pathNode) []byte {
	if s.doc != nil {
		return s.doc
	}
	doc, err := assembleDoc(s.head.Doc, tree, s.sortedItems)
	if err != nil {
		doc = s.head.Doc
	}
	s.doc = doc
	return doc
}

func (s *docState) sortedItems(path string) []item {
	byKey := s.items[path]
	out := make([]item, 0, len(byKey))
	for k, it := range byKey {
		out = append(out, item{key: k, raw: it.raw})
	}
	slices.SortFunc(out, func(a, b item) int { return strings.Compare(a.key, b.key) })
	return out
}

// recordKeys are every key the document has on the topic (items, their
// parts and the head's parts), for deleting it.
func (s *docState) recordKeys(kind, replica string) []string {
	var keys []string
	for path, byKey := range s.items {
		for k, it := range byKey {
			base := itemRecordKey(kind, replica, path, k)
			for i := range max(it.parts, 1) {
				keys = append(keys, partKey(base, i))
			}
		}
	}
	for k := range s.pending {
		keys = append(keys, k)
	}
	for k := range s.parts {
		keys = append(keys, k)
	}
	return keys
}

// decodeHead reads a head record's value (a legacy envelope included).
func decodeHead(val []byte, rk recKey) (*headValue, bool) {
	var h headValue
	if err := json.Unmarshal(val, &h); err != nil || h.Kind != rk.kind || h.Replica != rk.replica || len(h.Doc) == 0 {
		return nil, false
	}
	h.Doc = bytes.Clone(h.Doc)
	return &h, true
}
