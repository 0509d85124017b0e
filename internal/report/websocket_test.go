package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestWebSocketSectionRenders: every format shows the WebSocket endpoints,
// grouped per service, with status, heartbeat and the rules broken.
func TestWebSocketSectionRenders(t *testing.T) {
	r := fixedReport(t)
	started := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	r.WebSockets = []WebSocketEndpoint{
		{Service: "presence-service", Target: "presence", URL: "ws://127.0.0.1:1/v1/presence-service/ws", Profile: "authorworks",
			LastProbe: &started, Success: true, Heartbeat: "late: 1 heartbeats; the longest silence was 45s, more than 30s (± 3s)",
			Probes: 3, MessagesAudited: 150, Violations: []WebSocketRuleRow{{Rule: "websocket.auth_missing", Severity: "error", Count: 3}}},
		{Service: "content-service", Target: "content", URL: "ws://127.0.0.1:1/v1/content-service/ws", Profile: "authorworks",
			LastProbe: &started, Success: true, Compliant: true, Heartbeat: "ok: 3 heartbeats", Probes: 3},
	}
	for format, want := range map[string][]string{
		"md":   {"## WebSocket endpoints\n", "### WebSocket endpoints of content-service", "### WebSocket endpoints of presence-service", "non-compliant", "websocket.auth_missing ×3"},
		"html": {"<h3>WebSocket endpoints</h3>", "<h4>Service presence-service</h4>", "websocket.auth_missing ×3", "late: 1 heartbeats"},
		"csv":  {"websocket,presence-service", "websocket_violations,presence-service", "websocket.auth_missing"},
		"json": {`"websockets"`, `"websocket.auth_missing"`},
	} {
		var buf bytes.Buffer
		if err := Render(&buf, r, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, w := range want {
			if !strings.Contains(strings.ReplaceAll(buf.String(), "<wbr>", ""), w) { // the HTML breaks long names with <wbr>
				t.Errorf("%s lacks %q", format, w)
			}
		}
	}
	// grouped by service, services sorted
	var md bytes.Buffer
	_ = Render(&md, r, "md")
	if strings.Index(md.String(), "of content-service") > strings.Index(md.String(), "of presence-service") {
		t.Error("services not in order")
	}
}
