package share

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Presplit is a document that cuts itself into head and items, so that
// the board neither marshals nor scans the whole of it: for a large
// document rebuilt every interval (the lag leader's groups page, one item
// per consumer group). ShareSplit returns what splitting the document's
// JSON along the kind's Splits would: the head (compact JSON, each split
// member's value replaced by [] or {}) and, per split path, the items'
// compact JSON with their keys, in strictly increasing key order (an
// empty Key is computed from the item's JSON). When it fails, or its keys
// are out of order, the board marshals the document (it must also be
// marshallable to the same JSON) and splits that.
type Presplit interface {
	ShareSplit() (head []byte, items map[string][]Item, err error)
}

// Item is one item of a Presplit document.
type Item struct {
	Key  string // the Split's key members' values joined (TextKey for one string member); "" to have it computed
	JSON []byte // the item's compact JSON, as json.Marshal writes it; nil: see Render, then Sum
	// Sum stands for JSON when JSON and Render are nil: the xxhash of the item's JSON
	// as the document's previous version had it (the item did not
	// change). Key must be set. The board writes nothing for it when the
	// topic holds that version; otherwise (a publication that failed,
	// a document the topic no longer holds) it marshals the whole
	// document instead, so a document need not keep the JSON of items
	// it already shared.
	Sum uint64
	// Render stands for JSON when JSON is nil (Sum is then not read): it
	// returns the item's JSON, and the board calls it when it writes the
	// item (Key must be set). A document whose items change together
	// renders them this way, so that the board holds one chunk of them at
	// a time (chunkBytes), not the whole document. It is called at most
	// once per publication, not at all when the publication fails before
	// the item's chunk.
	Render func() ([]byte, error)
}

// TextKey is the item key of an element keyed by one string member
// whose value is s (what splitting the marshalled element would find).
func TextKey(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	raw, _ := json.Marshal(s) // invalid UTF-8 is marshalled as U+FFFD
	return nameOf(raw)
}

// Split cuts the JSON of a document along k's Splits, as the board does
// before publishing: for a Presplit's tests and for documents that build
// their head by splitting a small version of themselves.
func (k Kind) Split(doc []byte) (head []byte, items map[string][]Item, err error) {
	h, its, err := splitDoc(doc, newPathTree(k.Splits))
	if err != nil {
		return nil, nil, err
	}
	items = make(map[string][]Item, len(its))
	for path, list := range its {
		out := make([]Item, len(list))
		for i, it := range list {
			out[i] = Item{Key: it.key, JSON: it.raw}
		}
		items[path] = out
	}
	return h, items, nil
}

// presplit takes a Presplit's head and items in the board's form; an
// error when it failed or its items are not in strictly increasing key
// order.
func presplit(p Presplit, k *declared) ([]byte, map[string][]item, error) {
	head, its, err := p.ShareSplit()
	if err != nil {
		return nil, nil, fmt.Errorf("split document: %w", err)
	}
	items := make(map[string][]item, len(its))
	for path, list := range its {
		s := k.splitOf(path)
		if s == nil {
			return nil, nil, fmt.Errorf("split document: no split declared at %q", path)
		}
		out := make([]item, len(list))
		for i, it := range list {
			out[i] = item{key: it.Key, raw: it.JSON}
			if it.JSON == nil {
				if it.Key == "" {
					return nil, nil, fmt.Errorf("split document: item %d of %s has neither JSON nor key", i, path)
				}
				if it.Render != nil {
					out[i].render = it.Render
				} else {
					out[i].sum, out[i].unchanged = it.Sum, true
				}
				continue
			}
			if it.Key == "" {
				key, ok := itemKey(it.JSON, s.Key)
				if !ok {
					return nil, nil, fmt.Errorf("split document: item %d of %s lacks its key members", i, path)
				}
				out[i].key = key
			}
		}
		if !sortedUnique(out) {
			return nil, nil, fmt.Errorf("split document: the items of %s are not in key order", path)
		}
		items[path] = out
	}
	return head, items, nil
}

// splitOf is the Split declared at path; nil when none is.
func (k *declared) splitOf(path string) *Split {
	for i := range k.Splits {
		if k.Splits[i].Path == path {
			return &k.Splits[i]
		}
	}
	return nil
}
