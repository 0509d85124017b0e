package audit

import "github.com/eventwatch/eventwatch/internal/policy"

// dlqTrie builds the scanner trie of a dead-letter wrapper: the fields that
// may hold the original event and the fields that may hold error context.
func dlqTrie(d *policy.DLQ) *pathNode {
	root := &pathNode{role: -1}
	for _, f := range d.OriginalFields {
		root.ensure(f).role = roleDLQOriginal
	}
	for _, f := range d.ErrorFields {
		n := root.ensure(f)
		if n.role < 0 {
			n.role = roleDLQError
		}
	}
	return root
}
