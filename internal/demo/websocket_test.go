package demo

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
	ws "github.com/eventwatch/eventwatch/internal/websocket"
)

// TestWebSocketServicesBreakWhatTheySay probes the demo's two WebSocket
// services (heartbeats shortened to 1 s and 3 s, judged against a 1 s ±
// 1 s policy): the compliant one breaks nothing; the faulty one accepts
// connections without and with invalid tokens, sends a wrong type name
// and heartbeats late.
func TestWebSocketServicesBreakWhatTheySay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := startWebSockets(ctx, 7, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.beatOK, s.beatLate = time.Second, 3*time.Second
	dir := t.TempDir()
	cfg, err := s.config(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Modules["demo"] = ws.Module{Listen: 4500 * time.Millisecond, AuthWait: 500 * time.Millisecond}
	policy := fastPolicy(t, dir)
	for i := range cfg.Targets {
		cfg.Targets[i].Profile, cfg.Targets[i].Policy = "", policy
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := ws.New(cfg, ws.Options{Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.Run(ctx) }()
	want := map[string][]string{
		WSServiceCompliant: nil,
		WSServiceFaulty:    {"naming.event_type", "websocket.auth_invalid_accepted", "websocket.auth_missing", "websocket.heartbeat_late"},
	}
	for _, st := range waitProbed(t, p) {
		var got []string
		for r := range st.Last.ViolationsByRule {
			got = append(got, r)
		}
		slices.Sort(got)
		if !st.Last.Success || !slices.Equal(got, want[st.Service]) {
			b, _ := json.MarshalIndent(st.Last, "", " ")
			t.Errorf("%s: success %t, rules %v, want %v\n%s", st.Service, st.Last.Success, got, want[st.Service], b)
		}
	}
}

// waitProbed returns the snapshot once every target has a completed probe.
func waitProbed(t *testing.T, p *ws.Prober) []ws.Status {
	t.Helper()
	var snap []ws.Status
	wait.Within(t, 30*time.Second, "a completed probe of every target", func() bool {
		snap = p.Snapshot()
		done := len(snap) > 0
		for _, st := range snap {
			done = done && st.Last != nil
		}
		return done
	})
	return snap
}

// fastPolicy is authorworks with a 1 s (± 1 s) heartbeat.
func fastPolicy(t *testing.T, dir string) string {
	t.Helper()
	src, err := policy.BuiltinPolicy("authorworks")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	s = s[:strings.Index(s, "\nwebsocket:")+1] + "websocket:\n  endpoint: /v1/{service}/ws\n  heartbeat_interval: 1s\n  heartbeat_tolerance: 1s\n"
	path := filepath.Join(dir, "fast.yaml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkWebSockets: the running demo probes both WebSocket services: the
// faulty one's authentication findings show on /metrics within seconds
// (the heartbeat verdict takes the 100 s listen window), and the API lists
// both.
func checkWebSockets(t *testing.T, base string) {
	t.Helper()
	const missing = `eventwatch_websocket_violations_total{rule="websocket.auth_missing",service="` + WSServiceFaulty + `"`
	var body string
	// and in the estate-wide violations with transport websocket
	estate := `eventwatch_violations_total{rule="websocket.auth_missing",severity="error",source_service="` + WSServiceFaulty +
		`",topic="/v1/` + WSServiceFaulty + `/ws",transport="websocket"}`
	wait.Within(t, 30*time.Second, "websocket.auth_missing for "+WSServiceFaulty+" on /metrics", func() bool {
		body = scrape(t, base+"/metrics")
		return strings.Contains(body, missing) && strings.Contains(body, estate)
	})
	if strings.Contains(body, `rule="websocket.auth_missing",service="`+WSServiceCompliant+`"`) {
		t.Errorf("websocket.auth_missing flags %s, which refuses unauthenticated upgrades", WSServiceCompliant)
	}
	// the first look ends within seconds of start: both targets have a
	// last probe long before the 100 s listen window of the full one
	var st struct {
		Targets []struct {
			Service string          `json:"service"`
			Last    json.RawMessage `json:"last_probe"`
		} `json:"targets"`
	}
	wait.Within(t, 60*time.Second, "a last probe of both WebSocket services", func() bool {
		if json.Unmarshal([]byte(scrape(t, base+"/api/v1/websockets")), &st) != nil || len(st.Targets) != 2 {
			return false
		}
		return string(st.Targets[0].Last) != "null" && string(st.Targets[1].Last) != "null"
	})
}
