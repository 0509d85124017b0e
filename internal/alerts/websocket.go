package alerts

import (
	"fmt"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// webSocketRules watch the probed WebSocket endpoints: one that cannot be
// probed, and one that is probed and breaks the standard. Every replica
// probes every target, so both take the worst replica's view (max/min).
func webSocketRules(o Options) []Rule {
	by := o.By("target", "service")
	success := fmt.Sprintf("max by (%s) (%s)", by, o.Sel(metrics.WebSocketProbeSuccess.Name))
	compliant := fmt.Sprintf("min by (%s) (%s)", by, o.Sel(metrics.WebSocketProbeCompliant.Name))
	return []Rule{
		{Alert: "EventwatchWebSocketProbeFailing", Expr: success + " == 0", For: "10m", Labels: symptom("warning"),
			Annotations: Annotations{Summary: "WebSocket endpoint {{ $labels.target }} of {{ $labels.service }} cannot be probed",
				Description: "For 10m no probe of {{ $labels.target }} (service {{ $labels.service }}) could hold an authenticated " +
					"connection: the endpoint is down, refuses the configured token, fails TLS, does not speak WebSocket, never answers " +
					"or sends messages over the size limit. GET /api/v1/websockets says which."}},
		{Alert: "EventwatchWebSocketNonCompliant", Expr: compliant + " == 0\nand on (" + by + ")\n" + success + " == 1", For: "15m",
			Labels: symptom("warning"),
			Annotations: Annotations{Summary: "WebSocket endpoint {{ $labels.target }} of {{ $labels.service }} breaks the standard",
				Description: "For 15m every probe of {{ $labels.target }} (service {{ $labels.service }}) found an error-severity " +
					"violation: endpoint path, a connection accepted without a valid token, a missing heartbeat or non-compliant " +
					"messages. eventwatch_websocket_violations_total and GET /api/v1/websockets name the rules."}},
	}
}
