package trace

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// ringSize is how many recent latencies each pathway and hop keeps for the
// percentiles of /api/v1/flows.
const ringSize = 512

// maxHopKeys bounds the distinct (service, event type) pairs of hops kept for
// /api/v1/flows; beyond it new hops are kept with event type "other".
const maxHopKeys = 2000

// Report is the body of GET /api/v1/flows.
type Report struct {
	GeneratedAt  time.Time            `json:"generated_at"`  // when the report was made
	OpenChains   int                  `json:"open_chains"`   // chains in the window now
	ClosedChains uint64               `json:"closed_chains"` // chains closed and analysed since start
	Pathways     []PathwayStats       `json:"pathways"`      // most flows first
	Hops         []HopStats           `json:"hops"`          // most hops first
	Propagation  []ServicePropagation `json:"propagation"`   // by service name
	BrokenChains []BrokenChain        `json:"broken_chains"` // worst first (most breaks, then newest)
}

// PathwayStats describes the flows that took one pathway. A flow is a
// root-to-leaf path of a closed chain: a chain that fans out has several.
type PathwayStats struct {
	Pathway  string      `json:"pathway"`  // services joined by '>' ("other" beyond max_pathways)
	Services []string    `json:"services"` // the pathway's services in order
	Hops     int         `json:"hops"`     // hops per flow (services - 1)
	Count    uint64      `json:"count"`    // flows that took it
	Latency  Percentiles `json:"latency"`  // first to last event, over the most recent flows
}

// HopStats describes the hops from one (service, event type) to another.
type HopStats struct {
	From     string      `json:"from_service"`    // publisher of the upstream event
	FromType string      `json:"from_event_type"` // its event type ("other" beyond the hop bound)
	To       string      `json:"to_service"`      // publisher of the event it caused
	ToType   string      `json:"to_event_type"`   // that event's type
	Count    uint64      `json:"count"`           // hops seen in closed chains
	Latency  Percentiles `json:"latency"`         // over the most recent hops
}

// Percentiles summarise recent latencies, in seconds.
type Percentiles struct {
	Samples int     `json:"samples"`     // latencies summarised (at most 512)
	P50     float64 `json:"p50_seconds"` // median
	P90     float64 `json:"p90_seconds"` // 90th percentile
	P99     float64 `json:"p99_seconds"` // 99th percentile
	Max     float64 `json:"max_seconds"` // largest
}

// ServicePropagation is one service's propagation health.
type ServicePropagation struct {
	Service              string  `json:"service"`                      // source service ("other" beyond max_services)
	Events               uint64  `json:"events"`                       // events it published, seen by the stitcher
	WithCorrelation      uint64  `json:"with_correlation_id"`          // of those, with a correlation id
	WithTraceContext     uint64  `json:"with_trace_context"`           // of those, with a traceparent or envelope trace context
	CorrelationCoverage  float64 `json:"correlation_coverage_ratio"`   // WithCorrelation / Events
	TraceContextCoverage float64 `json:"trace_context_coverage_ratio"` // WithTraceContext / Events
}

// BrokenChain is a closed chain in which a service dropped or replaced an id.
type BrokenChain struct {
	ClosedAt      time.Time  `json:"closed_at"`                // when the chain's window ended
	CorrelationID string     `json:"correlation_id,omitempty"` // the chain's first correlation id
	TraceID       string     `json:"trace_id"`                 // its first real trace id, else the derived one
	Pathways      []string   `json:"pathways"`                 // of its root-to-leaf flows
	Breaks        []Break    `json:"breaks"`
	Events        []EventRef `json:"events"` // in order
}

// Break names the event at which a chain broke.
type Break struct {
	Service string `json:"service"` // publisher of the event that lost the id
	Reason  string `json:"reason"`  // correlation_dropped, correlation_replaced, trace_dropped or trace_replaced
	Event   int    `json:"event"`   // index into Events
}

// EventRef points at a Kafka record; it never carries the payload.
type EventRef struct {
	Topic         string    `json:"topic"`                    // record topic
	Partition     int32     `json:"partition"`                // record partition
	Offset        int64     `json:"offset"`                   // record offset
	EventID       string    `json:"event_id,omitempty"`       // envelope event id
	EventType     string    `json:"event_type,omitempty"`     // envelope event type
	Service       string    `json:"service"`                  // source service
	CorrelationID string    `json:"correlation_id,omitempty"` // envelope correlation id
	TraceID       string    `json:"trace_id,omitempty"`       // resolved trace id
	Context       Origin    `json:"context"`                  // where the trace id came from
	Upstream      int       `json:"upstream"`                 // index of the event that caused it; -1 for the first
	EventTime     time.Time `json:"event_time,omitzero"`      // envelope timestamp
	RecordTime    time.Time `json:"record_time,omitzero"`     // Kafka record timestamp
}

// ring keeps the most recent latencies.
type ring struct {
	vals []time.Duration
	next int
}

func (r *ring) add(d time.Duration) {
	if len(r.vals) < ringSize {
		r.vals = append(r.vals, d)
		return
	}
	r.vals[r.next] = d
	r.next = (r.next + 1) % ringSize
}

// clone copies the ring (its values in any order; percentiles sort them).
func (r *ring) clone() ring { return ring{vals: slices.Clone(r.vals), next: r.next} }

func (r *ring) percentiles() Percentiles {
	if len(r.vals) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(r.vals)
	slices.Sort(s)
	q := func(p float64) float64 { return s[int(p*float64(len(s)-1))].Seconds() }
	return Percentiles{Samples: len(s), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: s[len(s)-1].Seconds()}
}

type pathwayAgg struct {
	services []string
	count    uint64
	lat      ring
}

type hopKey struct{ from, fromType, to, toType string }

type hopAgg struct {
	count uint64
	lat   ring
}

type propAgg struct{ events, corr, trace uint64 }

// flows aggregates closed chains for the HTTP view; safe for concurrent use.
type flows struct {
	mu        sync.Mutex
	pathways  map[string]*pathwayAgg
	hops      map[hopKey]*hopAgg
	prop      map[string]*propAgg
	broken    []BrokenChain
	maxBroken int
	closed    uint64
	openNow   int
}

func newFlows(maxBroken int) *flows {
	return &flows{
		pathways:  make(map[string]*pathwayAgg),
		hops:      make(map[hopKey]*hopAgg),
		prop:      make(map[string]*propAgg),
		maxBroken: maxBroken,
	}
}

func (f *flows) observeEvent(service string, corr, trace bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.prop[service]
	if p == nil {
		p = &propAgg{}
		f.prop[service] = p
	}
	p.events++
	if corr {
		p.corr++
	}
	if trace {
		p.trace++
	}
}

// observeChain records a closed chain: each root-to-leaf path under its
// (bounded) pathway label, given in labels, and each hop.
func (f *flows) observeChain(a analysis, labels []string, broken *BrokenChain) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	for i, p := range a.Paths {
		agg := f.pathways[labels[i]]
		if agg == nil {
			agg = &pathwayAgg{services: slices.Clone(p.Services)}
			if labels[i] == otherLabel {
				agg.services = nil
			}
			f.pathways[labels[i]] = agg
		}
		agg.count++
		agg.lat.add(p.Latency)
	}
	for _, h := range a.Hops {
		agg := f.hop(hopKey{h.From.Service, h.From.EventType, h.To.Service, h.To.EventType})
		agg.count++
		agg.lat.add(h.Latency)
	}
	if broken != nil {
		f.addBroken(*broken)
	}
}

// hop returns the aggregate of k, created when there is room, else the
// aggregate of the same services with event types "other".
func (f *flows) hop(k hopKey) *hopAgg {
	if agg := f.hops[k]; agg != nil {
		return agg
	}
	if len(f.hops) >= maxHopKeys {
		k.fromType, k.toType = otherLabel, otherLabel
		if agg := f.hops[k]; agg != nil {
			return agg
		}
	}
	agg := &hopAgg{}
	f.hops[k] = agg
	return agg
}

// addBroken keeps the maxBroken worst broken chains: most breaks first, then
// the most recently closed.
func (f *flows) addBroken(b BrokenChain) {
	f.broken = append(f.broken, b)
	slices.SortStableFunc(f.broken, func(x, y BrokenChain) int {
		if len(x.Breaks) != len(y.Breaks) {
			return len(y.Breaks) - len(x.Breaks)
		}
		return y.ClosedAt.Compare(x.ClosedAt)
	})
	if len(f.broken) > f.maxBroken {
		f.broken = f.broken[:f.maxBroken]
	}
}

func (f *flows) setOpen(n int) {
	f.mu.Lock()
	f.openNow = n
	f.mu.Unlock()
}

// flowsSnapshot is a copy of the aggregates, taken under the lock so that
// the percentiles can be computed without holding it.
type flowsSnapshot struct {
	open     int
	closed   uint64
	pathways map[string]pathwayAgg
	hops     map[hopKey]hopAgg
	prop     map[string]propAgg
	broken   []BrokenChain
}

func (f *flows) snapshot() flowsSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := flowsSnapshot{open: f.openNow, closed: f.closed, broken: slices.Clone(f.broken),
		pathways: make(map[string]pathwayAgg, len(f.pathways)), hops: make(map[hopKey]hopAgg, len(f.hops)),
		prop: make(map[string]propAgg, len(f.prop))}
	for k, p := range f.pathways {
		s.pathways[k] = pathwayAgg{services: p.services, count: p.count, lat: p.lat.clone()}
	}
	for k, h := range f.hops {
		s.hops[k] = hopAgg{count: h.count, lat: h.lat.clone()}
	}
	for k, p := range f.prop {
		s.prop[k] = *p
	}
	return s
}

// report builds the flows report from a consistent copy of the aggregates.
func (f *flows) report(now time.Time) Report {
	s := f.snapshot()
	r := Report{GeneratedAt: now, OpenChains: s.open, ClosedChains: s.closed,
		Pathways: s.pathwayStats(), Hops: s.hopStats(), Propagation: s.propagation(), BrokenChains: s.broken}
	if r.BrokenChains == nil {
		r.BrokenChains = []BrokenChain{}
	}
	return r
}

func (s flowsSnapshot) pathwayStats() []PathwayStats {
	out := []PathwayStats{}
	for name, p := range s.pathways {
		out = append(out, PathwayStats{Pathway: name, Services: p.services,
			Hops: max(len(p.services)-1, 0), Count: p.count, Latency: p.lat.percentiles()})
	}
	slices.SortFunc(out, func(a, b PathwayStats) int {
		if a.Count != b.Count {
			return cmpDesc(a.Count, b.Count)
		}
		return strings.Compare(a.Pathway, b.Pathway)
	})
	return out
}

func (s flowsSnapshot) hopStats() []HopStats {
	out := []HopStats{}
	for k, h := range s.hops {
		out = append(out, HopStats{From: k.from, FromType: k.fromType, To: k.to, ToType: k.toType,
			Count: h.count, Latency: h.lat.percentiles()})
	}
	key := func(h HopStats) string { return h.From + "\x00" + h.FromType + "\x00" + h.To + "\x00" + h.ToType }
	slices.SortFunc(out, func(a, b HopStats) int {
		if a.Count != b.Count {
			return cmpDesc(a.Count, b.Count)
		}
		return strings.Compare(key(a), key(b))
	})
	return out
}

func (s flowsSnapshot) propagation() []ServicePropagation {
	out := []ServicePropagation{}
	for name, p := range s.prop {
		out = append(out, ServicePropagation{Service: name, Events: p.events,
			WithCorrelation: p.corr, WithTraceContext: p.trace,
			CorrelationCoverage: ratio(p.corr, p.events), TraceContextCoverage: ratio(p.trace, p.events)})
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

// Routes registers GET /api/v1/flows on mux.
func (s *Stitcher) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/flows", s.serveFlows)
}

func (s *Stitcher) serveFlows(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.Flows()); err != nil {
		s.log.Warn("write flows response", "err", err)
	}
}
