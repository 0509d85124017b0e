package websocket

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"time"
)

// Transport is the transport label of every finding of the prober.
const Transport = "websocket"

// Outcomes of one connection attempt (Attempt.Outcome).
const (
	OutcomeAccepted = "accepted" // upgraded and kept open (or delivered data)
	OutcomeRefused  = "refused"  // refused: HTTP status on the upgrade, or closed by the server
	OutcomeError    = "error"    // no answer a verdict can rest on (connection failed, timed out)
)

// Result is what one probe of a target found. Every text in it is
// redacted: no token ever appears.
type Result struct {
	Started  time.Time `json:"started"`          // when the probe began
	Duration float64   `json:"duration_seconds"` // how long it took
	// ListenSec is the probe's listen window: the module's listen, or its
	// first_listen for the first look after start.
	ListenSec float64   `json:"listen_seconds"`
	Success   bool      `json:"success"`         // the endpoint could be probed: authenticated connection accepted and held for the listen window
	Error     string    `json:"error,omitempty"` // why Success is false
	Compliant bool      `json:"compliant"`       // Success and no error-severity violation
	Endpoint  Endpoint  `json:"endpoint"`        // the path check
	Auth      Auth      `json:"auth"`            // the connection attempts
	Messages  Messages  `json:"messages"`        // what arrived on the authenticated connection
	Heartbeat Heartbeat `json:"heartbeat"`       // the heartbeat measurement
	Close     *Close    `json:"close,omitempty"` // how the authenticated connection ended
	// Violations are the probe's findings (websocket.* rules, then message
	// violations under the record rule ids, at most maxKeptViolations).
	Violations []Violation `json:"violations"`
	// ViolationsByRule counts every violation of the probe by rule id.
	ViolationsByRule map[string]int `json:"violations_by_rule"`
}

// Endpoint is the result of the path check.
type Endpoint struct {
	Path    string `json:"path"`              // the URL's path
	Pattern string `json:"pattern,omitempty"` // the profile's pattern; empty when the profile sets none
	OK      bool   `json:"ok"`                // matches, {service} being the target's service
}

// Auth holds the connection attempts of a probe.
type Auth struct {
	Token   *Attempt  `json:"token"`    // with the configured JWT: must be accepted
	NoToken *Attempt  `json:"no_token"` // without any token: must be refused
	Invalid []Attempt `json:"invalid"`  // with each invalid-token variant: should be refused
}

// Attempt is one connection attempt.
type Attempt struct {
	Variant    string `json:"variant,omitempty"`     // invalid-token variant (malformed, tampered, alg_none, expired)
	Note       string `json:"note,omitempty"`        // how the variant was made
	Outcome    string `json:"outcome"`               // accepted, refused or error
	HTTPStatus int    `json:"http_status,omitempty"` // status of a refused upgrade
	CloseCode  int    `json:"close_code,omitempty"`  // close code when the server closed after the upgrade
	Reason     string `json:"reason,omitempty"`      // close reason or error text (redacted)
	Proper     bool   `json:"proper,omitempty"`      // a refusal the standard way: HTTP 401/403 or close 1008
}

// Messages counts what arrived on the authenticated connection.
type Messages struct {
	Received   int `json:"received"`   // data messages (text and binary)
	Binary     int `json:"binary"`     // of which binary frames
	Heartbeats int `json:"heartbeats"` // of which heartbeat messages (not audited)
	Audited    int `json:"audited"`    // audited by the engine
	Compliant  int `json:"compliant"`  // audited without an error-severity violation
}

// Heartbeat is the heartbeat measurement of a probe.
type Heartbeat struct {
	Verdict      string    `json:"verdict"`                    // ok, late, missing, not_judged or unchecked
	Detail       string    `json:"detail"`                     // the numbers behind the verdict
	ExpectedSec  float64   `json:"expected_seconds"`           // the profile's interval
	ToleranceSec float64   `json:"tolerance_seconds"`          // and tolerance
	Pings        int       `json:"pings"`                      // ping frames from the server
	Messages     int       `json:"messages"`                   // heartbeat messages from the server
	GapsSec      []float64 `json:"gaps_seconds"`               // intervals between consecutive heartbeats
	MaxGapSec    float64   `json:"max_gap_seconds"`            // longest silence, open and end of the window included
	PingAnswered *bool     `json:"ping_answered"`              // the server answered eventwatch's ping; null when not asked
	PongRTTSec   float64   `json:"pong_rtt_seconds,omitempty"` // how long the answer took
	ListenedSec  float64   `json:"listened_seconds"`           // how long the connection was watched
}

// Heartbeat verdicts.
const (
	HeartbeatOK        = "ok"
	HeartbeatLate      = "late"
	HeartbeatMissing   = "missing"
	HeartbeatNotJudged = "not_judged" // the window was too short to tell
	HeartbeatUnchecked = "unchecked"  // the profile sets no heartbeat interval
)

// Close is how a connection ended.
type Close struct {
	By     string `json:"by"`     // server or eventwatch
	Code   int    `json:"code"`   // WebSocket close code; 1006 when the connection dropped without one
	Reason string `json:"reason"` // close reason (redacted)
}

// Violation is one finding, with the transport it was found on.
type Violation struct {
	Rule      string         `json:"rule"`
	Severity  event.Severity `json:"severity"`
	Message   string         `json:"message"`
	Field     string         `json:"field,omitempty"`
	Transport string         `json:"transport"` // always "websocket"
}
