package trace

import (
	"encoding/json"
	"net/http"
	"time"
)

// Report is the body of GET /api/v1/flows.
type Report struct {
	GeneratedAt    time.Time            `json:"generated_at"`       // when the report was made
	OpenChains     int                  `json:"open_chains"`        // chains in the window now
	ClosedChains   uint64               `json:"closed_chains"`      // chains closed and analysed since start
	Pathways       []PathwayStats       `json:"pathways"`           // most flows first
	Hops           []HopStats           `json:"hops"`               // most hops first
	Propagation    []ServicePropagation `json:"propagation"`        // by service name
	BrokenChains   []BrokenChain        `json:"broken_chains"`      // worst first (most breaks, then newest)
	Causation      CausationCounts      `json:"causation"`          // events of closed chains by how their upstream was found
	AmbiguousHops  []AmbiguousHop       `json:"ambiguous_hops"`     // events with several possible causes, by from and to service: no hop counted
	AmbiguousFlows uint64               `json:"ambiguous_flows"`    // flows through an ambiguous event whose pathway is not known either: not in pathways
	LateEvents     uint64               `json:"late_events"`        // events that arrived after their chain closed
	DeadLetters    uint64               `json:"dead_letters"`       // dead-letter copies of events seen: neither hops nor duplicates
	RecentChains   []BrokenChain        `json:"recent_chains"`      // the latest closed chains (trace.recent_chains), newest first, every event with its upstream
	Replicas       []ReplicaRef         `json:"replicas,omitempty"` // whose documents were merged (see MergeFlows)
}

// ReplicaRef names a replica whose flows are part of a merged report.
type ReplicaRef struct {
	Replica     string    `json:"replica"`      // share.replica_id
	PublishedAt time.Time `json:"published_at"` // when its document was published
	Stale       bool      `json:"stale"`        // it has not published for share.stale_after (stopped or cut off); its counts still count
}

// PathwayStats describes the flows that took one pathway. A flow is a
// root-to-leaf path of a closed chain: a chain that fans out has several.
type PathwayStats struct {
	Pathway  string      `json:"pathway"`  // services joined by '>' ("other" beyond max_pathways)
	Services []string    `json:"services"` // the pathway's services in order
	Hops     int         `json:"hops"`     // hops per flow (services - 1)
	Count    uint64      `json:"count"`    // flows that took it
	Exact    uint64      `json:"exact"`    // of those, flows whose every hop is exact (span evidence)
	Inferred uint64      `json:"inferred"` // of those, flows with an inferred hop
	Latency  Percentiles `json:"latency"`  // first to last event, over every flow
}

// HopStats describes the hops from one (service, event type) to another.
type HopStats struct {
	From     string      `json:"from_service"`    // publisher of the upstream event
	FromType string      `json:"from_event_type"` // its event type ("other" beyond the hop bound)
	To       string      `json:"to_service"`      // publisher of the event it caused
	ToType   string      `json:"to_event_type"`   // that event's type
	Count    uint64      `json:"count"`           // hops seen in closed chains
	Exact    uint64      `json:"exact"`           // of those, hops from span evidence
	Inferred uint64      `json:"inferred"`        // of those, inferred hops
	Latency  Percentiles `json:"latency"`         // over every hop
}

// CausationCounts counts the events of closed chains by how their upstream
// was found (see Cause).
type CausationCounts struct {
	Exact     uint64 `json:"exact"`     // from span evidence (an exact root included)
	Inferred  uint64 `json:"inferred"`  // inferred without a guess
	Ambiguous uint64 `json:"ambiguous"` // several possible causes: none attached
	Root      uint64 `json:"root"`      // no earlier event of another service
}

// AmbiguousHop counts events of service To whose cause is one of several
// events of service From.
type AmbiguousHop struct {
	From  string `json:"from_service"`
	To    string `json:"to_service"`
	Count uint64 `json:"count"`
}

// Percentiles summarise latencies, in seconds, within 1% (a mergeable
// logarithmic sketch; the maximum is exact).
type Percentiles struct {
	Samples int     `json:"samples"`     // latencies summarised
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

// BrokenChain is a closed chain: one in which a service dropped or
// replaced an id (broken_chains), or one of the latest (recent_chains).
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
	Topic         string     `json:"topic"`                    // record topic
	Partition     int32      `json:"partition"`                // record partition
	Offset        int64      `json:"offset"`                   // record offset
	EventID       string     `json:"event_id,omitempty"`       // envelope event id
	EventType     string     `json:"event_type,omitempty"`     // envelope event type
	Service       string     `json:"service"`                  // source service
	CorrelationID string     `json:"correlation_id,omitempty"` // envelope correlation id
	TraceID       string     `json:"trace_id,omitempty"`       // resolved trace id
	Context       Origin     `json:"context"`                  // where the trace id came from
	Upstream      int        `json:"upstream"`                 // index of the event that caused it; -1 for a root or an ambiguous event
	Causation     Cause      `json:"causation"`                // how the upstream was found: exact, inferred, ambiguous or root
	Candidates    []int      `json:"candidates,omitempty"`     // the possible causes of an ambiguous event
	EventTime     time.Time  `json:"event_time,omitzero"`      // envelope timestamp
	RecordTime    time.Time  `json:"record_time,omitzero"`     // Kafka record timestamp
	DeadLetter    *RecordPos `json:"dead_letter,omitempty"`    // where a dead-letter copy of it was seen while its chain was open
}

// Routes registers GET /api/v1/flows on mux.
func (s *Stitcher) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/flows", s.serveFlows)
}

// EstateFlows is what GET /api/v1/flows answers: the estate-wide merge
// (ServeMerged) when set, else this stitcher's own report.
func (s *Stitcher) EstateFlows() Report {
	if s.merged != nil {
		return s.merged()
	}
	return s.Flows()
}

func (s *Stitcher) serveFlows(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	rep := s.EstateFlows()
	if err := enc.Encode(rep); err != nil {
		s.log.Warn("write flows response", "err", err)
	}
}
