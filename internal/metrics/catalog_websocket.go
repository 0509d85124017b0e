package metrics

// The WebSocket prober (internal/websocket), blackbox_exporter style: one
// series set per configured target (bounded by the configuration).
var (
	WebSocketProbeSuccess = define(Spec{Name: "eventwatch_websocket_probe_success", Kind: Gauge, Area: "websocket",
		Help:   "1 when the last probe of the WebSocket target succeeded (the authenticated connection was accepted and held for the listen window), else 0.",
		Labels: []string{"target", "service"}})
	WebSocketProbeCompliant = define(Spec{Name: "eventwatch_websocket_probe_compliant", Kind: Gauge, Area: "websocket",
		Help:   "1 when the last probe of the WebSocket target succeeded and found no error-severity violation (endpoint, authentication, heartbeat, messages), else 0.",
		Labels: []string{"target", "service"}})
	WebSocketProbeDuration = define(Spec{Name: "eventwatch_websocket_probe_duration_seconds", Kind: Gauge, Area: "websocket",
		Help:   "How long the last probe of the WebSocket target took, listen window included.",
		Labels: []string{"target", "service"}})
	WebSocketProbes = define(Spec{Name: "eventwatch_websocket_probes_total", Kind: Counter, Area: "websocket",
		Help:   "Probes of the WebSocket target, by result (success, failure).",
		Labels: []string{"target", "service", "result"}})
	WebSocketHeartbeatInterval = define(Spec{Name: "eventwatch_websocket_heartbeat_interval_seconds", Kind: Histogram, Area: "websocket",
		Help:    "Time between two consecutive heartbeats the WebSocket server sent, by kind (ping: ping frames, message: heartbeat messages).",
		Labels:  []string{"target", "service", "kind"},
		Buckets: []float64{1, 5, 10, 15, 20, 25, 30, 33, 36, 40, 45, 60, 90, 120, 300}})
	WebSocketPingAnswered = define(Spec{Name: "eventwatch_websocket_ping_answered", Kind: Gauge, Area: "websocket",
		Help:   "1 when the WebSocket server answered eventwatch's ping frame with a pong in the last probe, 0 when it did not.",
		Labels: []string{"target", "service"}})
	WebSocketMessagesReceived = define(Spec{Name: "eventwatch_websocket_messages_received_total", Kind: Counter, Area: "websocket",
		Help:   "Data messages received on the authenticated connection of WebSocket probes, by kind (event, heartbeat).",
		Labels: []string{"target", "service", "kind"}})
	WebSocketMessagesAudited = define(Spec{Name: "eventwatch_websocket_messages_audited_total", Kind: Counter, Area: "websocket",
		Help:   "WebSocket messages audited against the target's profile by the same engine as Kafka records.",
		Labels: []string{"target", "service"}})
	WebSocketMessagesCompliant = define(Spec{Name: "eventwatch_websocket_messages_compliant_total", Kind: Counter, Area: "websocket",
		Help:   "Audited WebSocket messages without an error-severity violation.",
		Labels: []string{"target", "service"}})
	WebSocketViolations = define(Spec{Name: "eventwatch_websocket_violations_total", Kind: Counter, Area: "websocket",
		Help:   "Violations found by WebSocket probes, by rule id (websocket.* rules once per probe, record rules once per message), attributed to the target's service.",
		Labels: []string{"target", "service", "rule", "severity"}})
	WebSocketServerCloses = define(Spec{Name: "eventwatch_websocket_server_closes_total", Kind: Counter, Area: "websocket",
		Help:   "Connections of WebSocket probes the server closed, by close code (1006: dropped without a close frame) and attempt (token, no_token, invalid_token).",
		Labels: []string{"target", "service", "attempt", "code"}})
)
