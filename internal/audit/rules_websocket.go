package audit

import (
	"fmt"
	"strings"

	"github.com/eventwatch/eventwatch/internal/policy"
)

// writeWebSocketNotes documents, per profile, what the WebSocket prober
// checks, and says what it cannot observe.
func writeWebSocketNotes(b *strings.Builder, profiles []*policy.Profile) {
	b.WriteString("\n## WebSocket endpoints per profile\n\n")
	b.WriteString("The `websocket.*` rules are evaluated by the WebSocket prober on the endpoints listed in\n")
	b.WriteString("`websocket.targets` ([configuration](configuration.md#websocket-probes)). Messages received\n")
	b.WriteString("over a WebSocket are audited by the same engine as Kafka records, under the record rule ids\n")
	b.WriteString("(with `transport: websocket`), except `naming.topic`, `key.missing` and\n")
	b.WriteString("`dlq.missing_error_context`, which have no meaning without a topic. A waiver's `topic` glob\n")
	b.WriteString("matches the endpoint path for WebSocket findings.\n\n")
	b.WriteString("Every WebSocket finding (message rules and `websocket.*` rules) is counted in\n")
	b.WriteString("`eventwatch_violations_total` with `transport=\"websocket\"`, the endpoint path as `topic` and\n")
	b.WriteString("the target's service as `source_service` (Kafka records carry `transport=\"kafka\"`), so\n")
	b.WriteString("violations by rule and by service cover both transports; `eventwatch_websocket_violations_total`\n")
	b.WriteString("has them per probed target.\n\n")
	b.WriteString("| profile | endpoint pattern | heartbeat interval | tolerance |\n|---|---|---|---|\n")
	for _, p := range profiles {
		w := p.WebSocket
		ep, hb, tol := "not checked", "not checked", "-"
		if w.Endpoint != "" {
			ep = "`" + w.Endpoint + "`"
		}
		if w.HeartbeatInterval > 0 {
			hb, tol = w.HeartbeatInterval.String(), w.HeartbeatTolerance.String()
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", p.Name, ep, hb, tol)
	}
	b.WriteString("\nReconnection with exponential backoff (AuthorWorks WebSocket Standards 4) is a client\n")
	b.WriteString("behaviour: a server-side prober cannot observe how a client reconnects, so eventwatch has no\n")
	b.WriteString("rule for it and does not pretend to check it.\n")
}
