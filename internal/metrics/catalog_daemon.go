package metrics

// The daemon: leadership of the singleton work and readiness.
var (
	Leader = define(Spec{Name: "eventwatch_leader", Kind: Gauge, Area: "self",
		Help: "1 while this replica leads the singleton work (lag, topic config and DLQ collection), else 0; exactly one replica of a deployment reports 1."})
	LeaderTransitions = define(Spec{Name: "eventwatch_leader_transitions_total", Kind: Counter, Area: "self",
		Help:   "Times this replica gained or lost the singleton-work leadership, by direction (acquired, released).",
		Labels: []string{"direction"}})
	Ready = define(Spec{Name: "eventwatch_ready", Kind: Gauge, Area: "self",
		Help: "1 when /readyz answers 200 (configuration loaded and Kafka reachable), else 0."})
)
