package event

// ScopeWebSocket marks the rules the WebSocket prober (internal/websocket)
// evaluates on a probed endpoint rather than on a record.
const ScopeWebSocket Scope = "websocket"

// WebSocket rule ids: the one place they are spelled. The prober reports
// violations under these ids; messages received over a WebSocket are
// audited by the Engine under the record rule ids.
const (
	RuleWebSocketEndpointPath        = "websocket.endpoint_path"         // the endpoint path does not match the profile's pattern
	RuleWebSocketAuthMissing         = "websocket.auth_missing"          // a connection without a token was accepted
	RuleWebSocketAuthInvalidAccepted = "websocket.auth_invalid_accepted" // a connection with an expired or malformed token was accepted
	RuleWebSocketHeartbeatMissing    = "websocket.heartbeat_missing"     // no heartbeat within the profile's interval plus tolerance
	RuleWebSocketHeartbeatLate       = "websocket.heartbeat_late"        // heartbeats further apart than the interval plus tolerance
)

// websocketRules are evaluated by the WebSocket prober on each probe of a
// configured endpoint (websocket.targets).
var websocketRules = []RuleInfo{
	{ID: RuleWebSocketEndpointPath, Severity: SeverityError, Scope: ScopeWebSocket,
		Summary:  "the WebSocket endpoint path does not match the profile's pattern (the {service} segment must be the target's service)",
		Standard: "AuthorWorks: WebSocket Standards 1 (connection endpoint format /v1/{service}/ws)"},
	{ID: RuleWebSocketAuthMissing, Severity: SeverityError, Scope: ScopeWebSocket,
		Summary:  "the endpoint accepted a connection that carried no token (it must answer 401/403 or close with 1008)",
		Standard: "AuthorWorks: WebSocket Standards 2 (authentication via JWT in the connection request)"},
	{ID: RuleWebSocketAuthInvalidAccepted, Severity: SeverityError, Scope: ScopeWebSocket,
		Summary:  "the endpoint accepted a connection with an expired, tampered, unsigned (alg none) or malformed token",
		Standard: "AuthorWorks: WebSocket Standards 2 (authentication via JWT in the connection request)"},
	{ID: RuleWebSocketHeartbeatMissing, Severity: SeverityError, Scope: ScopeWebSocket,
		Summary:  "the server sent no heartbeat (ping frame or heartbeat message) within the profile's interval plus tolerance",
		Standard: "AuthorWorks: WebSocket Standards 5 (heartbeat mechanism every 30 seconds)"},
	{ID: RuleWebSocketHeartbeatLate, Severity: SeverityWarning, Scope: ScopeWebSocket,
		Summary:  "the server's heartbeats are further apart than the profile's interval plus tolerance",
		Standard: "AuthorWorks: WebSocket Standards 5 (heartbeat mechanism every 30 seconds)"},
}
