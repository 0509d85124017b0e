package share

import (
	"errors"
	"fmt"
	"strings"
)

// Kind declares one kind of shared document and how it is cut into
// records. Declare every kind (Board.Declare) before Run; an undeclared
// kind is published as one record per document.
type Kind struct {
	Name string // what the document is: "groups", "flows", ...
	// Splits are the members of the document shared item by item, each
	// element (array) or member (object) one record, published only when
	// its JSON changed and removed with a tombstone when it disappears.
	// Everything else is the document's head, one record.
	Splits []Split
	// Single marks a document one replica at a time publishes (the lag
	// leader's): when this replica publishes it, the stale documents of
	// other replicas of the same kind are deleted from the topic.
	Single bool
	// SelfServed marks a document its publisher never reads back from
	// the board while it runs (the lag leader answers from its own
	// collector): of what this process publishes, the board keeps the
	// head and each item's hash, not its bytes, so the publisher does
	// not hold its document twice. Its own documents of the kind are
	// then left out of Entries and Newest; those it published before it
	// started (a restart) are kept whole.
	SelfServed bool
}

// Split is one member of a document that is shared item by item.
type Split struct {
	// Path is the dot-separated path of the member from the document's
	// root, e.g. "page.groups". A path that is absent, null or neither an
	// array nor an object stays in the head.
	Path string
	// Key names the members that identify an array's element (their
	// values joined); the array must be sorted by it, as the lag snapshot
	// sorts groups by id. Elements that are not in key order, or lack a
	// key member, are keyed by position (correct, but an insertion then
	// republishes the elements after it). An object's members are keyed
	// by name, and Key is ignored.
	Key []string
}

// validate checks the names the record keys are built from.
func (k Kind) validate() error {
	var errs []error
	if k.Name == "" || strings.ContainsAny(k.Name, "/\x00") {
		errs = append(errs, fmt.Errorf("share kind %q: name must be non-empty without '/'", k.Name))
	}
	seen := map[string]bool{}
	for _, s := range k.Splits {
		if s.Path == "" || strings.ContainsAny(s.Path, "/\x00") || strings.Contains(s.Path, "..") {
			errs = append(errs, fmt.Errorf("share kind %s: split path %q must be non-empty without '/'", k.Name, s.Path))
		}
		if seen[s.Path] {
			errs = append(errs, fmt.Errorf("share kind %s: split path %q declared twice", k.Name, s.Path))
		}
		seen[s.Path] = true
	}
	for p := range seen {
		for q := range seen {
			if p != q && strings.HasPrefix(q, p+".") {
				errs = append(errs, fmt.Errorf("share kind %s: split path %q is inside %q", k.Name, q, p))
			}
		}
	}
	return errors.Join(errs...)
}
