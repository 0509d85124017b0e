package policy

import (
	"path/filepath"

	"github.com/eventwatch/eventwatch/internal/event"

	"strings"
	"testing"
	"time"
)

func TestAuthorworksWebSocketEndpoint(t *testing.T) {
	p, err := LoadProfile("authorworks")
	if err != nil {
		t.Fatal(err)
	}
	w := &p.WebSocket
	if w.HeartbeatInterval != 30*time.Second || w.HeartbeatTolerance <= 0 {
		t.Fatalf("heartbeat = %s ± %s, want 30s and a tolerance", w.HeartbeatInterval, w.HeartbeatTolerance)
	}
	cases := []struct {
		path, service string
		want          bool
	}{
		{"/v1/content/ws", "content", true},
		{"/v1/content/ws", "user", false},     // {service} is another service
		{"/v1/content/ws/", "content", false}, // trailing slash
		{"/v2/content/ws", "content", false},
		{"/ws", "content", false},
		{"/v1/a/b/ws", "a/b", false}, // {service} is one segment
		{"/v1/content/socket", "content", false},
	}
	for _, c := range cases {
		if got := w.MatchEndpoint(c.path, c.service); got != c.want {
			t.Errorf("MatchEndpoint(%q, %q) = %t, want %t", c.path, c.service, got, c.want)
		}
	}
}

func TestHuleEduChecksNoWebSocket(t *testing.T) {
	p, err := LoadProfile("huleedu")
	if err != nil {
		t.Fatal(err)
	}
	if !p.WebSocket.MatchEndpoint("/anything", "x") || p.WebSocket.HeartbeatInterval != 0 {
		t.Fatal("huleedu has no WebSocket clause: nothing may be checked")
	}
	for _, r := range event.WebSocketRules() {
		if _, on := p.RuleSeverity(r.ID, ""); on {
			t.Errorf("huleedu: %s is on", r.ID)
		}
	}
}

func TestWebSocketPolicyCustomAndInvalid(t *testing.T) {
	p, err := ParsePolicy("custom.yaml", withWebSocket(t, "websocket:\n  endpoint: /rt/{service}/socket\n  heartbeat_interval: 1s\n  heartbeat_tolerance: 200ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.WebSocket.MatchEndpoint("/rt/chat/socket", "chat") || p.WebSocket.MatchEndpoint("/v1/chat/ws", "chat") {
		t.Fatal("custom endpoint pattern not applied")
	}
	if p.WebSocket.HeartbeatInterval != time.Second {
		t.Fatalf("interval = %s", p.WebSocket.HeartbeatInterval)
	}
	bad := map[string]string{
		"websocket:\n  endpoint: v1/{service}/ws\n":                  "websocket.endpoint: must be a path starting with /",
		"websocket:\n  endpoint: /v1/{team}/ws\n":                    "websocket.endpoint: only the placeholder {service}",
		"websocket:\n  heartbeat_interval: -1s\n":                    "websocket.heartbeat_interval: must be >= 0",
		"websocket:\n  heartbeat_tolerance: 1s\n":                    "websocket.heartbeat_tolerance: needs heartbeat_interval",
		"websocket:\n  heartbeat: 1s\n":                              "websocket.heartbeat: unknown field",
		"websocket:\n  endpoint: /v1/{service}/ws\nseverities2: 1\n": "severities2: unknown field",
	}
	for doc, want := range bad {
		_, err := ParsePolicy("bad.yaml", withWebSocket(t, doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("policy %q: err = %v, want %q", doc, err, want)
		}
	}
}

// withWebSocket is the authorworks policy with its websocket: section
// replaced by section.
func withWebSocket(t *testing.T, section string) []byte {
	t.Helper()
	src, err := BuiltinPolicy("authorworks")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	i := strings.Index(s, "\nwebsocket:")
	if i < 0 {
		t.Fatal("authorworks has no websocket section")
	}
	return []byte(s[:i+1] + section)
}

// TestCustomPolicyExampleSetsWebSocket: the hand-written example policy
// shows the websocket: section with its own pattern and interval.
func TestCustomPolicyExampleSetsWebSocket(t *testing.T) {
	p, err := LoadPolicy(filepath.Join("..", "..", "examples", "policies", "custom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w := &p.WebSocket
	if !w.MatchEndpoint("/realtime/v1/chat/ws", "chat") || w.MatchEndpoint("/v1/chat/ws", "chat") || w.HeartbeatInterval != 20*time.Second {
		t.Fatalf("websocket policy %+v", *w)
	}
}
