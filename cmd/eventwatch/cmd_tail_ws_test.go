package main

import (
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// TestTailLineWebSocket: a WebSocket probe's finding names its transport
// and endpoint instead of a partition and offset.
func TestTailLineWebSocket(t *testing.T) {
	e := store.Example{Observed: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Severity: "error", Rule: "websocket.auth_missing",
		Service: "presence-service", Topic: "/v1/presence-service/ws", Message: "accepted without a token", Transport: "websocket"}
	line := tailLine(e)
	if !strings.Contains(line, " websocket /v1/presence-service/ws") || strings.Contains(line, "@") {
		t.Errorf("tail line %q", line)
	}
	e.Transport, e.Topic, e.Partition, e.Offset = "", "content.book", 2, 7
	if line := tailLine(e); !strings.Contains(line, " content.book/2@7") {
		t.Errorf("tail line %q", line)
	}
}
