package share

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// keySep joins the values of an item's key members.
const keySep = "\x1f"

// indexKeyPrefix starts the keys of an array whose items are not in the
// order of their keys (or have none): they are keyed by position instead.
const indexKeyPrefix = "#"

// item is one member of a split array or object: its key and its JSON.
type item struct {
	key string
	raw []byte
	// unchanged: raw is nil and sum is the hash of the JSON the
	// document's previous version had (Item.Sum)
	unchanged bool
	sum       uint64
	// render: raw is nil and the item's JSON is rendered when the board
	// writes it (Item.Render)
	render func() ([]byte, error)
}

// pathNode is the tree of a kind's split paths ("page.groups" is the child
// "groups" of the child "page" of the root).
type pathNode struct {
	children map[string]*pathNode
	split    *Split // set on the node a split path ends at
}

func newPathTree(splits []Split) *pathNode {
	root := &pathNode{}
	for i := range splits {
		n := root
		for seg := range strings.SplitSeq(splits[i].Path, ".") {
			if n.children == nil {
				n.children = map[string]*pathNode{}
			}
			next := n.children[seg]
			if next == nil {
				next = &pathNode{}
				n.children[seg] = next
			}
			n = next
		}
		n.split = &splits[i]
	}
	return root
}

// splitDoc cuts doc (compact JSON) along the tree: every split member's
// value is replaced by a placeholder of its shape ([] or {}) in the head,
// and its elements become items, keyed as the Split says.
func splitDoc(doc []byte, tree *pathNode) (head []byte, items map[string][]item, err error) {
	items = map[string][]item{}
	head, err = rewrite(doc, tree, func(s *Split, val []byte) ([]byte, error) {
		placeholder, its, err := splitValue(s, val)
		if err == nil && its != nil {
			items[s.Path] = its
		}
		return placeholder, err
	})
	return head, items, err
}

// assembleDoc is splitDoc's inverse: it replaces every placeholder of the
// head by the items of its path, in key order.
func assembleDoc(head []byte, tree *pathNode, items func(path string) []item) ([]byte, error) {
	return rewrite(head, tree, func(s *Split, val []byte) ([]byte, error) {
		switch string(val) {
		case "[]":
			return joinItems('[', ']', items(s.Path), false), nil
		case "{}":
			return joinItems('{', '}', items(s.Path), true), nil
		}
		return val, nil
	})
}

func joinItems(open, closing byte, its []item, named bool) []byte {
	n := 2
	for _, it := range its {
		n += len(it.raw) + len(it.key) + 4
	}
	out := make([]byte, 0, n)
	out = append(out, open)
	for i, it := range its {
		if i > 0 {
			out = append(out, ',')
		}
		if named {
			k, _ := json.Marshal(it.key)
			out = append(append(out, k...), ':')
		}
		out = append(out, it.raw...)
	}
	return append(out, closing)
}

// rewrite re-emits the object raw with the members on the tree's paths
// transformed by leaf (at a split) or rewritten recursively; anything else
// (a path that does not exist, a value that is not an object) stays as is.
func rewrite(raw []byte, n *pathNode, leaf func(*Split, []byte) ([]byte, error)) ([]byte, error) {
	if n.split != nil {
		return leaf(n.split, raw)
	}
	if len(n.children) == 0 || firstByte(raw) != '{' {
		return raw, nil
	}
	out := make([]byte, 0, len(raw))
	out = append(out, '{')
	err := scanObject(raw, func(name, val []byte) error {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(out, name...), ':')
		if child := n.children[nameOf(name)]; child != nil {
			var err error
			if val, err = rewrite(val, child, leaf); err != nil {
				return err
			}
		}
		out = append(out, val...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("split document: %w", err)
	}
	return append(out, '}'), nil
}

// splitValue turns an array or object into items and its placeholder;
// other values are left in the head (nil items).
func splitValue(s *Split, val []byte) ([]byte, []item, error) {
	switch firstByte(val) {
	case '{':
		var its []item
		err := scanObject(val, func(name, v []byte) error {
			its = append(its, item{key: nameOf(name), raw: v})
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("split document: %w", err)
		}
		if !sortedUnique(its) {
			return val, nil, nil // duplicate names: not splittable, kept whole
		}
		return []byte("{}"), its, nil
	case '[':
		var raws [][]byte
		if err := scanArray(val, func(v []byte) { raws = append(raws, v) }); err != nil {
			return nil, nil, fmt.Errorf("split document: %w", err)
		}
		return []byte("[]"), keyItems(s.Key, raws), nil
	}
	return val, nil, nil
}

// keyItems keys the elements of an array by their key members; when that
// does not give strictly increasing keys (so that key order would not be
// the array's order) they are keyed by position instead.
func keyItems(keyFields []string, raws [][]byte) []item {
	its := make([]item, len(raws))
	ok := len(keyFields) > 0
	for i, r := range raws {
		its[i].raw = r
		if ok {
			its[i].key, ok = itemKey(r, keyFields)
		}
	}
	if ok && sortedUnique(its) {
		return its
	}
	for i := range its {
		its[i].key = fmt.Sprintf("%s%09d", indexKeyPrefix, i)
	}
	return its
}

func sortedUnique(its []item) bool {
	return slices.IsSortedFunc(its, func(a, b item) int { return strings.Compare(a.key, b.key) }) &&
		len(slices.CompactFunc(slices.Clone(its), func(a, b item) bool { return a.key == b.key })) == len(its)
}

// itemKey joins the values of the key members of one array element
// (strings as their text, other values as their JSON); false when the
// element is not an object or lacks one.
func itemKey(raw []byte, fields []string) (string, bool) {
	if firstByte(raw) != '{' {
		return "", false
	}
	vals := make([]string, len(fields))
	seen := make([]bool, len(fields))
	found := 0
	err := scanObject(raw, func(name, v []byte) error {
		i := slices.Index(fields, nameOf(name))
		if i < 0 || seen[i] {
			return nil
		}
		seen[i] = true
		if firstByte(v) == '"' {
			vals[i] = nameOf(v)
		} else {
			vals[i] = string(v)
		}
		found++
		return nil
	})
	return strings.Join(vals, keySep), err == nil && found == len(fields)
}

func firstByte(raw []byte) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}
