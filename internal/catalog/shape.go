package catalog

import (
	"encoding/json"
	"regexp"
	"sort"
	"time"
)

// Bounds of one learned shape: paths deeper than maxShapeDepth are not
// described, an object keeps at most maxProps properties and a whole shape
// at most maxNodes nodes; what is cut off is marked Truncated, so the
// inferred schema leaves it open instead of guessing.
const (
	maxShapeDepth = 10
	maxProps      = 128
	maxNodes      = 1024
)

// Shape is what eventwatch learned about the values at one JSON path: how
// many values of each kind it saw there and, for strings, how many did not
// fit a format. It holds counts only, never a value, and every count is
// additive, so shapes learned by different replicas merge exactly (Merge).
type Shape struct {
	Count       int64             `json:"n"`                       // values seen at this path (members present, or array elements)
	Null        int64             `json:"null,omitempty"`          // of which null
	String      int64             `json:"string,omitempty"`        // of which strings
	Integer     int64             `json:"integer,omitempty"`       // of which integral numbers
	Number      int64             `json:"number,omitempty"`        // of which other numbers
	Bool        int64             `json:"boolean,omitempty"`       // of which booleans
	Object      int64             `json:"object,omitempty"`        // of which objects
	Array       int64             `json:"array,omitempty"`         // of which arrays
	NotUUID     int64             `json:"not_uuid,omitempty"`      // strings that are not a UUID
	NotDateTime int64             `json:"not_date_time,omitempty"` // strings that are not an RFC 3339 date-time
	Props       map[string]*Shape `json:"properties,omitempty"`    // members of the objects seen here
	Items       *Shape            `json:"items,omitempty"`         // elements of the arrays seen here
	Truncated   bool              `json:"truncated,omitempty"`     // members or depth were cut off by the bounds
}

// learner adds values to a shape while counting nodes against maxNodes.
type learner struct {
	nodes int
}

// newLearner returns a learner for root, counting its existing nodes.
func newLearner(root *Shape) *learner { return &learner{nodes: root.size()} }

// size counts the nodes of s.
func (s *Shape) size() int {
	if s == nil {
		return 0
	}
	n := 1
	for _, c := range s.Props {
		n += c.size()
	}
	return n + s.Items.size()
}

// add folds one decoded JSON value (decoded with UseNumber) into s.
func (l *learner) add(s *Shape, v any, depth int) {
	s.Count++
	switch t := v.(type) {
	case nil:
		s.Null++
	case string:
		s.addString(t)
	case json.Number:
		if isIntegral(string(t)) {
			s.Integer++
		} else {
			s.Number++
		}
	case bool:
		s.Bool++
	case map[string]any:
		s.Object++
		l.addObject(s, t, depth)
	case []any:
		s.Array++
		l.addArray(s, t, depth)
	}
}

func (s *Shape) addString(v string) {
	s.String++
	if !isUUID(v) {
		s.NotUUID++
	}
	if !isDateTime(v) {
		s.NotDateTime++
	}
}

func (l *learner) addObject(s *Shape, m map[string]any, depth int) {
	if depth >= maxShapeDepth {
		s.Truncated = true
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // which members survive the bounds must not depend on map order
	for _, k := range keys {
		c := l.child(s, k)
		if c == nil {
			continue
		}
		l.add(c, m[k], depth+1)
	}
}

// child returns the member shape k of s, creating it within the bounds.
func (l *learner) child(s *Shape, k string) *Shape {
	if c := s.Props[k]; c != nil {
		return c
	}
	if len(s.Props) >= maxProps || l.nodes >= maxNodes {
		s.Truncated = true
		return nil
	}
	if s.Props == nil {
		s.Props = make(map[string]*Shape)
	}
	c := &Shape{}
	s.Props[k] = c
	l.nodes++
	return c
}

func (l *learner) addArray(s *Shape, a []any, depth int) {
	if len(a) == 0 {
		return
	}
	if depth >= maxShapeDepth {
		s.Truncated = true
		return
	}
	if s.Items == nil {
		if l.nodes >= maxNodes {
			s.Truncated = true
			return
		}
		s.Items = &Shape{}
		l.nodes++
	}
	for _, e := range a {
		l.add(s.Items, e, depth+1)
	}
}

// Merge adds the counts of o into s (o is not modified). Members beyond the
// bounds are dropped and mark s Truncated, like learning does.
func (s *Shape) Merge(o *Shape) {
	if o == nil {
		return
	}
	newLearner(s).merge(s, o)
}

func (l *learner) merge(s, o *Shape) {
	s.Count += o.Count
	s.Null += o.Null
	s.String += o.String
	s.Integer += o.Integer
	s.Number += o.Number
	s.Bool += o.Bool
	s.Object += o.Object
	s.Array += o.Array
	s.NotUUID += o.NotUUID
	s.NotDateTime += o.NotDateTime
	s.Truncated = s.Truncated || o.Truncated
	for _, k := range sortedKeys(o.Props) {
		if c := l.child(s, k); c != nil {
			l.merge(c, o.Props[k])
		}
	}
	if o.Items != nil {
		if s.Items == nil && l.nodes < maxNodes {
			s.Items = &Shape{}
			l.nodes++
		}
		if s.Items != nil {
			l.merge(s.Items, o.Items)
		} else {
			s.Truncated = true
		}
	}
}

// Lookup returns the shape at a dotted member path below s ("" is s
// itself), or nil when the path was never seen.
func (s *Shape) Lookup(path string) *Shape {
	if path == "" || s == nil {
		return s
	}
	for _, part := range splitPath(path) {
		if s == nil {
			return nil
		}
		s = s.Props[part]
	}
	return s
}

// Required reports whether member k was present in every object seen at s.
func (s *Shape) Required(k string) bool {
	c := s.Props[k]
	return c != nil && s.Object > 0 && c.Count >= s.Object
}

func isIntegral(n string) bool {
	for i := 0; i < len(n); i++ {
		if c := n[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return len(s) == 36 && uuidRE.MatchString(s) }

// isDateTime reports whether s is an RFC 3339 date-time (JSON Schema's
// date-time format).
func isDateTime(s string) bool {
	if len(s) < 20 || len(s) > 40 || s[4] != '-' {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
