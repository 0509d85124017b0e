package trace

// otherLabel replaces label values beyond a labelSet's limit.
const otherLabel = "other"

// labelSet bounds the distinct values a label takes: the first max values
// seen are kept as they are, later ones become "other". Not safe for
// concurrent use; the stitcher's loop owns it.
type labelSet struct {
	max  int
	seen map[string]struct{}
}

func newLabelSet(limit int) *labelSet {
	return &labelSet{max: limit, seen: make(map[string]struct{})}
}

// value returns v when it is already tracked or there is room for it, else
// "other".
func (l *labelSet) value(v string) string {
	if _, ok := l.seen[v]; ok {
		return v
	}
	if len(l.seen) >= l.max {
		return otherLabel
	}
	l.seen[v] = struct{}{}
	return v
}
