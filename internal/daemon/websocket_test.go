package daemon

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
	ws "github.com/eventwatch/eventwatch/internal/websocket"
)

// TestWebSocketProbesEndToEnd: the daemon probes a configured endpoint
// that accepts connections without a token, and the finding shows in
// /metrics, /api/v1/websockets and the weekly report — the token in none
// of them, nor in the log.
func TestWebSocketProbesEndToEnd(t *testing.T) {
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkYWVtb24tdGVzdC1zZWNyZXQtY2xhaW0ifQ.c2lnbmF0dXJlLW9mLXRoZS1kYWVtb24tdGVzdA"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil) // accepts anyone: websocket.auth_missing
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		_ = c.Write(r.Context(), websocket.MessageText, []byte(`{"meta":{"id":"x"},"data":{}}`))
		_, _, _ = c.Read(r.Context())
	}))
	defer srv.Close()
	tokFile := filepath.Join(t.TempDir(), "jwt")
	if err := os.WriteFile(tokFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	_, cfg := kfakeConfig(t)
	cfg.Log.Level = "debug"
	cfg.WebSocket.Interval = 2 * time.Second
	cfg.WebSocket.Modules = map[string]ws.Module{"default": {Listen: 300 * time.Millisecond, AuthWait: 300 * time.Millisecond}}
	cfg.WebSocket.Targets = []ws.Target{{Name: "content", URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/content/ws",
		Service: "content", TokenFile: tokFile}}
	logs := &lockedBuffer{}
	in := start(t, cfg, Options{Version: "test", LogOutput: logs})
	wait.Within(t, 30*time.Second, "websocket.auth_missing on /metrics", func() bool {
		return metric(t, in.url, "eventwatch_websocket_violations_total", `rule="websocket.auth_missing"`, `service="content"`) >= 1
	})
	wait.Within(t, 30*time.Second, "websocket.auth_missing in eventwatch_violations_total", func() bool {
		return metric(t, in.url, "eventwatch_violations_total", `rule="websocket.auth_missing"`, `transport="websocket"`,
			`source_service="content"`, `topic="/v1/content/ws"`) >= 1
	})
	wait.Within(t, 30*time.Second, "a completed probe", func() bool {
		return metric(t, in.url, "eventwatch_websocket_probes_total", `target="content"`) >= 1
	})
	stream := wsStreamLine(t, strings.TrimPrefix(in.url, "http://"))
	if !strings.Contains(stream, `"transport":"websocket"`) || !strings.Contains(stream, `"topic":"/v1/content/ws"`) {
		t.Errorf("stream event %s, want the WebSocket finding with its transport and endpoint", stream)
	}
	_, api := httpget.Get(t, in.url+"/api/v1/websockets")
	if !strings.Contains(api, `"websocket.auth_missing"`) || !strings.Contains(api, `"transport": "websocket"`) {
		t.Errorf("/api/v1/websockets lacks the finding: %s", api)
	}
	// the week's counts come from the store (the leader's prober writes them
	// with each flush): the live view has no non-compliant probe count
	var week struct {
		WebSockets []struct {
			Service            string `json:"service"`
			Probes             int64  `json:"probes"`
			NonCompliantProbes int64  `json:"non_compliant_probes"`
			Violations         []struct {
				Rule  string `json:"rule"`
				Count int64  `json:"count"`
			} `json:"violations"`
		} `json:"websockets"`
	}
	wait.Within(t, 60*time.Second, "the stored week of the endpoint in the report", func() bool {
		_, body := httpget.Get(t, in.url+"/api/v1/reports/weekly?format=json")
		if json.Unmarshal([]byte(body), &week) != nil || len(week.WebSockets) != 1 {
			return false
		}
		e := week.WebSockets[0]
		return e.Service == "content" && e.NonCompliantProbes >= 1 && e.NonCompliantProbes <= e.Probes && len(e.Violations) > 0
	})
	_, report := httpget.Get(t, in.url+"/api/v1/reports/weekly?format=md")
	if !strings.Contains(report, "WebSocket endpoints of content") || !strings.Contains(report, "websocket.auth_missing") {
		t.Errorf("weekly report lacks the WebSocket section:\n%s", report)
	}
	_, html := httpget.Get(t, in.url+"/api/v1/reports/weekly?format=html")
	_, metrics := httpget.Get(t, in.url+"/metrics")
	parts := strings.Split(token, ".")
	for name, text := range map[string]string{"log": logs.String(), "metrics": metrics, "api": api, "report": report, "html": html, "stream": stream} {
		for _, secret := range []string{token, parts[1], parts[2]} {
			if strings.Contains(strings.ReplaceAll(text, "<wbr>", ""), secret) { // the HTML report breaks long names with <wbr>
				t.Errorf("the token appears in the %s", name)
			}
		}
	}
}

// wsStreamLine reads the violation stream for websocket.auth_missing until
// its first data line (the next probe publishes one within the interval).
func wsStreamLine(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "GET /api/v1/violations/stream?rule=websocket.auth_missing HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return line
		}
	}
	t.Fatalf("no stream event: %v", sc.Err())
	return ""
}

// TestReportEndpointWhileFirstProbeListens: before any probe ended, the
// report's WebSocket row shows the first probe's findings so far, not "not
// probed yet"; once one ended, the counts add the probe in progress.
func TestReportEndpointWhileFirstProbeListens(t *testing.T) {
	in := &ws.Result{ViolationsByRule: map[string]int{"websocket.auth_missing": 1, "naming.event_type": 3},
		Violations: []ws.Violation{{Rule: "websocket.auth_missing", Severity: "error", Message: "accepted without a token"}},
		Heartbeat:  ws.Heartbeat{Verdict: ws.HeartbeatNotJudged, Detail: "probe in progress"}}
	s := ws.Status{Target: "presence", Service: "presence", InProgress: in,
		Totals: ws.Totals{ViolationsByRule: map[string]int64{}}}
	e := reportEndpoint(s)
	if !e.FirstProbeInProgress || e.Heartbeat != "probe in progress" || len(e.Violations) != 2 {
		t.Fatalf("endpoint %+v, want the first probe's findings so far", e)
	}
	if v := e.Violations[1]; v.Rule != "websocket.auth_missing" || v.Count != 1 || v.Message != "accepted without a token" {
		t.Errorf("row %+v", v)
	}
	started := time.Now()
	s.Last = &ws.Result{Started: started, Success: true, ViolationsByRule: map[string]int{"naming.event_type": 2}}
	s.Totals.ViolationsByRule["naming.event_type"] = 2
	if e := reportEndpoint(s); e.FirstProbeInProgress || e.Violations[0].Count != 5 {
		t.Errorf("after a first probe: %+v, want naming.event_type 2 ended + 3 in progress", e)
	}
}
