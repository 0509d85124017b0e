package lag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
)

// A group template is a group's page JSON (AppendPageGroup) with its
// figures derived from anchors left as holes, and the anchors of each
// hole: the group's facts, which do not change while only time passes.
// RenderGroupTemplate fills the holes at a page's time; at the time the
// collector built the group it gives AppendPageGroup's bytes exactly.
//
// As JSON (what the leader shares, one record per group):
//
//	{"group":"orders","seg":["{\"group\":\"orders\",…\"lag_seconds\":", …],"holes":[[1,0,1,…],…],"at":0}
//
// seg are the literal pieces, holes the anchors between them (one fewer
// than seg), at the time a stale group's figures are read at (0: the
// page's).

// Kinds of holes.
const (
	holeLag     uint8 = iota + 1 // a time lag (anchors.lagAt)
	holeWaiting                  // a waiting time (anchors.waitingSecondsAt)
	holeTTL                      // a time to loss (anchors.ttlAt)
	holeFinding                  // a finding's waiting time (anchors.findingAt)
	holeBreach                   // seconds above the objective (breachClock.at)
	holeWhy                      // the duration in a why sentence (whyClock.duration), inside its string
)

// hole is one derived figure and what it is a function of.
type hole struct {
	kind   uint8
	status Status // holeFinding
	a      anchors
	breach breachClock
	why    uint8 // holeWhy: whyLag or whyWaiting
}

// template collects a group's pieces while jsonWriter writes it.
type template struct {
	cuts  []int // where each hole is, in the writer's bytes
	holes []hole
}

// derived writes s, or with a template a hole for it.
func (w *jsonWriter) derived(s Seconds, h hole) {
	if w.tpl == nil {
		w.seconds(s)
		return
	}
	w.hole(h)
}

func (w *jsonWriter) hole(h hole) {
	w.tpl.cuts = append(w.tpl.cuts, len(w.b))
	w.tpl.holes = append(w.tpl.holes, h)
}

// why writes the why sentence s, or with a template its pieces around
// the hole of its duration (JSON escapes a string rune by rune, so the
// pieces escaped one by one are the whole escaped).
func (w *jsonWriter) why(s string, c *whyClock) {
	if w.tpl == nil || c.hole == whyNone {
		w.str(s) // without a duration, the sentence is a fact
		return
	}
	w.b = append(w.b, '"')
	w.strBody(c.pre)
	w.hole(hole{kind: holeWhy, why: c.hole, a: c.c})
	w.strBody(c.post)
	w.b = append(w.b, '"')
}

// strBody writes s as w.str does, without its quotes.
func (w *jsonWriter) strBody(s string) {
	n := len(w.b)
	w.str(s)
	if len(w.b) >= n+2 && w.b[n] == '"' && w.b[len(w.b)-1] == '"' {
		copy(w.b[n:], w.b[n+1:len(w.b)-1])
		w.b = w.b[:len(w.b)-2]
	}
}

// value is the hole's figure at now (unix ns), as the writer writes it.
func (h *hole) appendValue(w *jsonWriter, now int64) {
	switch h.kind {
	case holeLag:
		w.seconds(h.a.lagAt(now))
	case holeWaiting:
		w.seconds(h.a.waitingSecondsAt(now))
	case holeTTL:
		w.seconds(h.a.ttlAt(now))
	case holeFinding:
		w.seconds(h.a.findingAt(h.status, now))
	case holeBreach:
		w.float(h.breach.at(now))
	case holeWhy:
		c := whyClock{hole: h.why, c: h.a}
		w.strBody(c.duration(now))
	default:
		w.err = errors.Join(w.err, fmt.Errorf("group template: unknown hole kind %d", h.kind))
	}
}

// templateScratch holds the writers AppendGroupTemplate writes a group's
// JSON in before it cuts it into its template: one grown to a group's size
// and kept, not grown again from nothing for every group that changed.
var templateScratch = sync.Pool{New: func() any { return &jsonWriter{tpl: &template{}} }}

// AppendGroupTemplate appends g's template (see above) as JSON.
func AppendGroupTemplate(dst []byte, g *GroupLag) ([]byte, error) {
	w := templateScratch.Get().(*jsonWriter)
	defer func() {
		w.b, w.err, w.tpl.cuts, w.tpl.holes = w.b[:0], nil, w.tpl.cuts[:0], w.tpl.holes[:0]
		templateScratch.Put(w)
	}()
	w.group(g)
	if w.err != nil {
		return dst, w.err
	}
	out := jsonWriter{b: dst}
	out.key('{', "group")
	out.str(g.Group)
	out.key(',', "seg")
	from := 0
	for i, cut := range w.tpl.cuts {
		out.elem(i)
		out.b = appendJSONString(out.b, w.b[from:cut])
		from = cut
	}
	out.elem(len(w.tpl.cuts))
	out.b = appendJSONString(out.b, w.b[from:])
	out.b = append(out.b, ']')
	out.key(',', "holes")
	out.b = append(out.b, '[')
	for i := range w.tpl.holes {
		if i > 0 {
			out.b = append(out.b, ',')
		}
		out.b = appendHole(out.b, &w.tpl.holes[i])
	}
	out.b = append(out.b, ']')
	if g.frozen != 0 {
		out.key(',', "at")
		out.int(g.frozen)
	}
	out.b = append(out.b, '}')
	return out.b, out.err
}

// appendHole writes h as an array of integers (floats by their bits, so
// NaN and every value survive exactly).
func appendHole(b []byte, h *hole) []byte {
	f := func(v float64) int64 { return int64(math.Float64bits(v)) }
	nums := [...]int64{int64(h.kind), int64(h.status), int64(h.why), int64(h.a.lag), int64(h.a.wait), int64(h.a.ttl),
		f(h.a.fixed), h.a.at, f(h.a.est), h.a.moved, h.a.since, f(h.a.ret), f(h.a.size), f(h.breach.base), h.breach.since}
	b = append(b, '[')
	for i, n := range nums {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	return append(b, ']')
}

// holeFields is how many integers appendHole writes.
const holeFields = 15

func readHole(nums []int64) (hole, error) {
	if len(nums) != holeFields {
		return hole{}, fmt.Errorf("group template: a hole has %d fields, want %d", len(nums), holeFields)
	}
	f := func(v int64) float64 { return math.Float64frombits(uint64(v)) }
	return hole{kind: uint8(nums[0]), status: Status(nums[1]), why: uint8(nums[2]),
		a: anchors{lag: uint8(nums[3]), wait: uint8(nums[4]), ttl: uint8(nums[5]), fixed: f(nums[6]), at: nums[7], est: f(nums[8]),
			moved: nums[9], since: nums[10], ret: f(nums[11]), size: f(nums[12])},
		breach: breachClock{base: f(nums[13]), since: nums[14]}}, nil
}

// groupTemplate is a template as JSON decodes it.
type groupTemplate struct {
	Group string    `json:"group"`
	Seg   []string  `json:"seg"`
	Holes [][]int64 `json:"holes"`
	At    int64     `json:"at"`
}

// RenderGroupTemplate appends the page JSON of the group whose template
// is tpl, its figures read at pageTime (or at the template's own time,
// a stale group's). A group without pieces (shared by an older leader,
// which shared page JSON) is appended as it is.
func RenderGroupTemplate(dst, tpl []byte, pageTime time.Time) ([]byte, error) {
	var t groupTemplate
	if err := json.Unmarshal(tpl, &t); err != nil {
		return dst, fmt.Errorf("group template: %w", err)
	}
	if t.Seg == nil && t.Holes == nil {
		return append(dst, tpl...), nil // a group as a leader before templates shared it: its page JSON
	}
	if len(t.Seg) != len(t.Holes)+1 {
		return dst, fmt.Errorf("group template %q: %d pieces around %d holes", t.Group, len(t.Seg), len(t.Holes))
	}
	now := pageTime.UnixNano()
	if t.At != 0 {
		now = t.At
	}
	w := jsonWriter{b: dst}
	for i, seg := range t.Seg {
		w.b = append(w.b, seg...)
		if i == len(t.Holes) {
			break
		}
		h, err := readHole(t.Holes[i])
		if err != nil {
			return dst, err
		}
		h.appendValue(&w, now)
	}
	if w.err != nil {
		return dst, w.err
	}
	return w.b, nil
}

// TemplateGroupName is the group a template is of.
func TemplateGroupName(tpl []byte) (string, error) {
	var id struct {
		Group string `json:"group"`
	}
	err := json.Unmarshal(tpl, &id)
	return id.Group, err
}

// RenderPage is the groups page (PageOf's JSON) of a shared page, whose
// groups are templates (TemplatePageOf): each rendered at the page's
// time, every other member as it is.
func RenderPage(shared []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(shared))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("shared groups page: %w", err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New("shared groups page: not an object")
	}
	type member struct {
		name string
		raw  json.RawMessage
	}
	var members []member
	var at time.Time
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("shared groups page: %w", err)
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("shared groups page: member %q: %w", name, err)
		}
		if name == "time" {
			if err := json.Unmarshal(raw, &at); err != nil {
				return nil, fmt.Errorf("shared groups page: time: %w", err)
			}
		}
		members = append(members, member{name, raw})
	}
	out := make([]byte, 0, len(shared)+len(shared)/4)
	for i, m := range members {
		out = append(out, ',')
		if i == 0 {
			out[len(out)-1] = '{'
		}
		out = strconv.AppendQuote(out, m.name)
		out = append(out, ':')
		if m.name != "groups" {
			out = append(out, m.raw...)
			continue
		}
		var tpls []json.RawMessage
		if err := json.Unmarshal(m.raw, &tpls); err != nil {
			return nil, fmt.Errorf("shared groups page: groups: %w", err)
		}
		out = append(out, '[')
		for j, tpl := range tpls {
			if j > 0 {
				out = append(out, ',')
			}
			var err error
			if out, err = RenderGroupTemplate(out, tpl, at); err != nil {
				return nil, err
			}
		}
		out = append(out, ']')
	}
	if len(members) == 0 {
		out = append(out, '{')
	}
	return append(out, '}'), nil
}

// PageTime is the time of a shared or rendered groups page.
func PageTime(page []byte) (time.Time, error) {
	var p struct {
		Time time.Time `json:"time"`
	}
	err := json.Unmarshal(page, &p)
	return p.Time, err
}

// TemplatePageOf is PageOf with every group as its template
// (AppendGroupTemplate): the page the leader shares.
func TemplatePageOf(s *Snapshot) (any, error) {
	out := groupsPage[json.RawMessage]{Time: s.Time, Success: s.Success, LastSuccess: s.LastSuccess, Errors: s.Errors,
		Objective: s.Objective, Window: s.Window, DLQs: s.DLQs, Violations: s.Violations,
		Groups: make([]json.RawMessage, len(s.Groups))}
	for i := range s.Groups {
		js, err := AppendGroupTemplate(nil, &s.Groups[i])
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", s.Groups[i].Group, err)
		}
		out.Groups[i] = js
	}
	return out, nil
}
