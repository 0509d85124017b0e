package trace

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxHopKeys bounds the distinct (service, event type) pairs of hops kept for
// /api/v1/flows; beyond it new hops are kept with event type "other".
const maxHopKeys = 2000

// hopSep joins the four parts of a hop key in FlowsDoc.Hops.
const hopSep = "\x1f"

// FlowsDoc is what one stitcher has aggregated since it started: the state
// behind /api/v1/flows, in a form that replicas publish (JSON) and merge
// (MergeFlows), since each replica closes only the chains it owns.
type FlowsDoc struct {
	Open        int                     `json:"open"`         // chains open now
	Closed      uint64                  `json:"closed"`       // chains closed and analysed
	Pathways    map[string]*PathwayAgg  `json:"pathways"`     // by pathway label
	Hops        map[string]*HopAgg      `json:"hops"`         // by from, from type, to, to type joined by U+001F
	Propagation map[string]*Propagation `json:"propagation"`  // by service
	Broken      []BrokenChain           `json:"broken"`       // worst first
	Causation   map[Cause]uint64        `json:"causation"`    // events of closed chains by how their upstream was found
	Ambiguous   map[string]uint64       `json:"ambiguous"`    // ambiguous events by from and to service joined by U+001F
	Unsure      uint64                  `json:"unsure"`       // flows through an ambiguous event whose pathway is not known either
	Late        uint64                  `json:"late"`         // events that arrived after their chain closed
	DeadLetters uint64                  `json:"dead_letters"` // dead-letter copies of events seen (no hops, no duplicates)
	Recent      []BrokenChain           `json:"recent"`       // the latest closed chains, newest first
}

// PathwayAgg counts the flows of one pathway.
type PathwayAgg struct {
	Services []string `json:"services"` // nil for "other"
	Count    uint64   `json:"count"`
	Exact    uint64   `json:"exact"` // of Count, flows whose every hop is exact
	Latency  sketch   `json:"latency"`
}

// HopAgg counts the hops between one pair of (service, event type).
type HopAgg struct {
	Count   uint64 `json:"count"`
	Exact   uint64 `json:"exact"` // of Count, hops from span evidence
	Latency sketch `json:"latency"`
}

// Propagation counts one service's events and what they carried.
type Propagation struct {
	Events      uint64 `json:"events"`
	Correlation uint64 `json:"correlation"`
	Trace       uint64 `json:"trace"`
}

func newFlowsDoc() FlowsDoc {
	return FlowsDoc{Pathways: map[string]*PathwayAgg{}, Hops: map[string]*HopAgg{}, Propagation: map[string]*Propagation{},
		Causation: map[Cause]uint64{}, Ambiguous: map[string]uint64{}}
}

// clone is a deep copy.
func (d FlowsDoc) clone() FlowsDoc {
	c := newFlowsDoc()
	c.Open, c.Closed, c.Broken, c.Recent = d.Open, d.Closed, slices.Clone(d.Broken), slices.Clone(d.Recent)
	c.Unsure, c.Late, c.DeadLetters = d.Unsure, d.Late, d.DeadLetters
	maps.Copy(c.Causation, d.Causation)
	maps.Copy(c.Ambiguous, d.Ambiguous)
	for k, p := range d.Pathways {
		c.Pathways[k] = &PathwayAgg{Services: p.Services, Count: p.Count, Exact: p.Exact, Latency: p.Latency.clone()}
	}
	for k, h := range d.Hops {
		c.Hops[k] = &HopAgg{Count: h.Count, Exact: h.Exact, Latency: h.Latency.clone()}
	}
	for k, p := range d.Propagation {
		c.Propagation[k] = &Propagation{Events: p.Events, Correlation: p.Correlation, Trace: p.Trace}
	}
	return c
}

// MergeFlows adds up documents of several replicas (each counted chains it
// owned, so sums are the estate's numbers) and keeps the maxBroken worst
// broken chains of them all (and as many of the latest chains).
func MergeFlows(maxBroken int, docs ...FlowsDoc) FlowsDoc {
	out := newFlowsDoc()
	for _, d := range docs {
		out.Open += d.Open
		out.Closed += d.Closed
		out.Unsure += d.Unsure
		out.Late += d.Late
		out.DeadLetters += d.DeadLetters
		for k, n := range d.Causation {
			out.Causation[k] += n
		}
		for k, n := range d.Ambiguous {
			out.Ambiguous[k] += n
		}
		for _, b := range d.Recent {
			out.Recent = addRecent(out.Recent, b, maxBroken)
		}
		for k, p := range d.Pathways {
			agg := out.Pathways[k]
			if agg == nil {
				agg = &PathwayAgg{Services: p.Services}
				out.Pathways[k] = agg
			}
			agg.Count += p.Count
			agg.Exact += p.Exact
			agg.Latency.merge(p.Latency)
		}
		for k, h := range d.Hops {
			agg := out.Hops[k]
			if agg == nil {
				agg = &HopAgg{}
				out.Hops[k] = agg
			}
			agg.Count += h.Count
			agg.Exact += h.Exact
			agg.Latency.merge(h.Latency)
		}
		for k, p := range d.Propagation {
			agg := out.Propagation[k]
			if agg == nil {
				agg = &Propagation{}
				out.Propagation[k] = agg
			}
			agg.Events += p.Events
			agg.Correlation += p.Correlation
			agg.Trace += p.Trace
		}
		for _, b := range d.Broken {
			out.Broken = addBroken(out.Broken, b, maxBroken)
		}
	}
	return out
}

// addBroken keeps the max worst broken chains: most breaks first, then the
// most recently closed.
func addBroken(list []BrokenChain, b BrokenChain, limit int) []BrokenChain {
	list = append(slices.DeleteFunc(list, func(o BrokenChain) bool { return sameChain(o, b) }), b)
	slices.SortStableFunc(list, func(x, y BrokenChain) int {
		if len(x.Breaks) != len(y.Breaks) {
			return len(y.Breaks) - len(x.Breaks)
		}
		return y.ClosedAt.Compare(x.ClosedAt)
	})
	if len(list) > limit {
		list = list[:limit]
	}
	return list
}

// sameChain reports whether two views show one chain (closed again after a
// late event joined it): same ids, same first record.
func sameChain(x, y BrokenChain) bool {
	if x.CorrelationID != y.CorrelationID || x.TraceID != y.TraceID || len(x.Events) == 0 || len(y.Events) == 0 {
		return false
	}
	a, b := x.Events[0], y.Events[0]
	return a.Topic == b.Topic && a.Partition == b.Partition && a.Offset == b.Offset
}

// addRecent keeps the limit most recently closed chains, newest first.
func addRecent(list []BrokenChain, b BrokenChain, limit int) []BrokenChain {
	list = append(slices.DeleteFunc(list, func(o BrokenChain) bool { return sameChain(o, b) }), b)
	slices.SortStableFunc(list, func(x, y BrokenChain) int { return y.ClosedAt.Compare(x.ClosedAt) })
	if len(list) > limit {
		list = list[:limit]
	}
	return list
}

// Report renders the document as the body of /api/v1/flows.
func (d FlowsDoc) Report(now time.Time) Report {
	r := Report{GeneratedAt: now, OpenChains: d.Open, ClosedChains: d.Closed,
		Pathways: d.pathwayStats(), Hops: d.hopStats(), Propagation: d.propagation(), BrokenChains: slices.Clone(d.Broken),
		Causation: CausationCounts{Exact: d.Causation[CauseExact], Inferred: d.Causation[CauseInferred],
			Ambiguous: d.Causation[CauseAmbiguous], Root: d.Causation[CauseRoot]},
		AmbiguousHops: d.ambiguousHops(), AmbiguousFlows: d.Unsure, LateEvents: d.Late, DeadLetters: d.DeadLetters, RecentChains: slices.Clone(d.Recent)}
	if r.BrokenChains == nil {
		r.BrokenChains = []BrokenChain{}
	}
	if r.RecentChains == nil {
		r.RecentChains = []BrokenChain{}
	}
	return r
}

func (d FlowsDoc) ambiguousHops() []AmbiguousHop {
	out := []AmbiguousHop{}
	for _, k := range slices.Sorted(maps.Keys(d.Ambiguous)) {
		from, to, ok := strings.Cut(k, hopSep)
		if ok {
			out = append(out, AmbiguousHop{From: from, To: to, Count: d.Ambiguous[k]})
		}
	}
	return out
}

func (d FlowsDoc) pathwayStats() []PathwayStats {
	out := []PathwayStats{}
	for name, p := range d.Pathways {
		out = append(out, PathwayStats{Pathway: name, Services: p.Services,
			Hops: max(len(p.Services)-1, 0), Count: p.Count, Exact: p.Exact, Inferred: p.Count - p.Exact, Latency: p.Latency.percentiles()})
	}
	slices.SortFunc(out, func(a, b PathwayStats) int {
		if a.Count != b.Count {
			return cmpDesc(a.Count, b.Count)
		}
		return strings.Compare(a.Pathway, b.Pathway)
	})
	return out
}

func (d FlowsDoc) hopStats() []HopStats {
	out := []HopStats{}
	for _, k := range slices.Sorted(maps.Keys(d.Hops)) {
		h := d.Hops[k]
		parts := strings.SplitN(k, hopSep, 4)
		if len(parts) != 4 {
			continue
		}
		out = append(out, HopStats{From: parts[0], FromType: parts[1], To: parts[2], ToType: parts[3],
			Count: h.Count, Exact: h.Exact, Inferred: h.Count - h.Exact, Latency: h.Latency.percentiles()})
	}
	slices.SortStableFunc(out, func(a, b HopStats) int {
		if a.Count != b.Count {
			return cmpDesc(a.Count, b.Count)
		}
		return 0
	})
	return out
}

func (d FlowsDoc) propagation() []ServicePropagation {
	out := []ServicePropagation{}
	for name, p := range d.Propagation {
		out = append(out, ServicePropagation{Service: name, Events: p.Events,
			WithCorrelation: p.Correlation, WithTraceContext: p.Trace,
			CorrelationCoverage: ratio(p.Correlation, p.Events), TraceContextCoverage: ratio(p.Trace, p.Events)})
	}
	slices.SortFunc(out, func(a, b ServicePropagation) int { return strings.Compare(a.Service, b.Service) })
	return out
}

func cmpDesc(a, b uint64) int {
	if a > b {
		return -1
	}
	return 1
}

func ratio(n, d uint64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// flows aggregates closed chains and observed events into a FlowsDoc;
// safe for concurrent use.
type flows struct {
	mu        sync.Mutex
	doc       FlowsDoc
	maxBroken int
	maxRecent int
}

func newFlows(maxBroken, maxRecent int) *flows {
	return &flows{doc: newFlowsDoc(), maxBroken: maxBroken, maxRecent: maxRecent}
}

func (f *flows) observeEvent(service string, corr, trace bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.doc.Propagation[service]
	if p == nil {
		p = &Propagation{}
		f.doc.Propagation[service] = p
	}
	p.Events++
	if corr {
		p.Correlation++
	}
	if trace {
		p.Trace++
	}
}

// observeChain records what closing a chain changed (d, see diff): each
// root-to-leaf path under its (bounded) pathway label, each hop, how every
// event's upstream was found, and the chain itself (recent, and broken
// when it is). first is false when the chain was counted before (a late
// event reopened it): what it counted then and no longer holds is taken
// back.
func (f *flows) observeChain(d delta, label func(path) string, view BrokenChain, broken, first bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if first {
		f.doc.Closed++
	}
	for _, p := range d.subPaths {
		if agg := f.doc.Pathways[label(p)]; agg != nil && agg.Count > 0 {
			agg.Count--
			if p.Exact && agg.Exact > 0 {
				agg.Exact--
			}
			agg.Latency.remove(p.Latency)
			if agg.Count == 0 {
				delete(f.doc.Pathways, label(p))
			}
		}
	}
	for _, p := range d.addPaths {
		f.addPath(label(p), p)
	}
	for _, h := range d.subHops {
		f.subHop(h)
	}
	for _, h := range d.addHops {
		agg := f.hop(h.From.Service, h.From.EventType, h.To.Service, h.To.EventType)
		agg.Count++
		if h.Exact {
			agg.Exact++
		}
		agg.Latency.add(h.Latency)
	}
	f.countCausation(d)
	if broken {
		f.doc.Broken = addBroken(f.doc.Broken, view, f.maxBroken)
	}
	if f.maxRecent > 0 {
		f.doc.Recent = addRecent(f.doc.Recent, view, f.maxRecent)
	}
}

// subHop takes back a hop counted before.
func (f *flows) subHop(h hop) {
	k := strings.Join([]string{h.From.Service, h.From.EventType, h.To.Service, h.To.EventType}, hopSep)
	if f.doc.Hops[k] == nil {
		k = strings.Join([]string{h.From.Service, otherLabel, h.To.Service, otherLabel}, hopSep)
	}
	agg := f.doc.Hops[k]
	if agg == nil || agg.Count == 0 {
		return
	}
	agg.Count--
	if h.Exact && agg.Exact > 0 {
		agg.Exact--
	}
	agg.Latency.remove(h.Latency)
	if agg.Count == 0 {
		delete(f.doc.Hops, k)
	}
}

func (f *flows) countCausation(d delta) {
	for _, how := range d.subHow {
		if f.doc.Causation[how] > 0 {
			f.doc.Causation[how]--
		}
	}
	for _, how := range d.addHow {
		f.doc.Causation[how]++
	}
	for _, x := range d.subAmb {
		if k := x.From + hopSep + x.To; f.doc.Ambiguous[k] > 0 {
			f.doc.Ambiguous[k]--
		}
	}
	for _, x := range d.addAmb {
		f.doc.Ambiguous[x.From+hopSep+x.To]++
	}
	f.doc.Unsure += uint64(d.unsure)
}

func (f *flows) addPath(label string, p path) {
	agg := f.doc.Pathways[label]
	if agg == nil {
		agg = &PathwayAgg{Services: slices.Clone(p.Services)}
		if label == otherLabel {
			agg.Services = nil
		}
		f.doc.Pathways[label] = agg
	}
	agg.Count++
	if p.Exact {
		agg.Exact++
	}
	agg.Latency.add(p.Latency)
}

// late counts an event that arrived after its chain closed.
func (f *flows) late() {
	f.mu.Lock()
	f.doc.Late++
	f.mu.Unlock()
}

// hop returns the aggregate of a hop, created when there is room, else the
// aggregate of the same services with event types "other".
func (f *flows) hop(from, fromType, to, toType string) *HopAgg {
	k := strings.Join([]string{from, fromType, to, toType}, hopSep)
	if agg := f.doc.Hops[k]; agg != nil {
		return agg
	}
	if len(f.doc.Hops) >= maxHopKeys {
		k = strings.Join([]string{from, otherLabel, to, otherLabel}, hopSep)
		if agg := f.doc.Hops[k]; agg != nil {
			return agg
		}
	}
	agg := &HopAgg{}
	f.doc.Hops[k] = agg
	return agg
}

// closedCount is the number of chains closed so far.
func (f *flows) closedCount() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.doc.Closed
}

func (f *flows) setOpen(n int) {
	f.mu.Lock()
	f.doc.Open = n
	f.mu.Unlock()
}

// snapshot is a deep copy of the document, taken under the lock.
func (f *flows) snapshot() FlowsDoc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.doc.clone()
}

// report builds the flows report from a consistent copy of the aggregates.
func (f *flows) report(now time.Time) Report { return f.snapshot().Report(now) }
