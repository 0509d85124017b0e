package websocket

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestFirstProbeShowsWhileListening: a target's first probe starts when the
// prober starts, and what it has found so far — the endpoint check, the
// refused and accepted connection attempts, the audited messages and their
// violations — shows in the status and GET /api/v1/websockets long before
// its (here 60 s) listen window ends, instead of "not probed yet".
func TestFirstProbeShowsWhileListening(t *testing.T) {
	t.Parallel()
	secret := "s3cret-for-the-progress-test"
	base, token := realServer(t, secret)
	tokFile := tokenFile(t, token)
	long := fastModule()
	long.Listen = 60 * time.Second
	long.FirstListen = long.Listen // no short first look: this test watches the long probe
	logs := &syncBuffer{}
	p := runLegacyProber(t, base, tokFile, long, logs)

	var st Status
	wait.Within(t, 30*time.Second, "the first probe's authentication findings while it listens", func() bool {
		st = p.Snapshot()[0]
		in := st.InProgress
		return in != nil && in.Auth.NoToken != nil && in.ViolationsByRule["websocket.auth_missing"] == 1 && in.Messages.Audited > 0
	})
	in := st.InProgress
	if st.Last != nil || st.ProbingSince == nil {
		t.Fatalf("last probe %+v, probing since %v: want the first probe still running", st.Last, st.ProbingSince)
	}
	if in.Endpoint.Path != "/v1/legacy/ws" || !in.Endpoint.OK || in.Auth.Token == nil || in.Auth.Token.Outcome != OutcomeAccepted {
		t.Errorf("endpoint %+v, token attempt %+v: want the path checked and the token accepted", in.Endpoint, in.Auth.Token)
	}
	if in.Heartbeat.Verdict != HeartbeatNotJudged || in.Success || in.Compliant {
		t.Errorf("in progress: heartbeat %+v success %t compliant %t; want nothing judged before the window ends", in.Heartbeat, in.Success, in.Compliant)
	}
	if in.ViolationsByRule["naming.event_type"] == 0 {
		t.Errorf("violations so far %v, want the messages' naming.event_type", in.ViolationsByRule)
	}

	mux := http.NewServeMux()
	p.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/websockets") //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Targets []struct {
			Last       *Result `json:"last_probe"`
			InProgress *Result `json:"probe_in_progress"`
		} `json:"targets"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Targets) != 1 || body.Targets[0].InProgress == nil || body.Targets[0].InProgress.ViolationsByRule["websocket.auth_missing"] != 1 {
		t.Errorf("GET /api/v1/websockets: %+v, want the probe in progress with websocket.auth_missing", body.Targets)
	}
	assertNoSecret(t, []string{token}, logs.String())
}

// TestFirstProbeIsAShortLook: with first_listen shorter than listen, a
// target's first probe ends within seconds of start — a complete result
// (endpoint, authentication, audited messages) in last_probe — and the
// full-length probe starts right after it, not an interval later.
func TestFirstProbeIsAShortLook(t *testing.T) {
	t.Parallel()
	secret := "s3cret-for-the-first-look-test"
	base, token := realServer(t, secret)
	tokFile := tokenFile(t, token)
	mod := fastModule()
	mod.Listen, mod.FirstListen = 60*time.Second, 2*time.Second
	p := runLegacyProber(t, base, tokFile, mod, &syncBuffer{})

	var st Status
	wait.Within(t, 45*time.Second, "the first look's result, then the full probe under way", func() bool {
		st = p.Snapshot()[0]
		return st.Last != nil && st.ProbingSince != nil && st.InProgress != nil
	})
	last := st.Last
	if !last.Success || last.ListenSec != 2 || last.ViolationsByRule["websocket.auth_missing"] != 1 || last.Messages.Audited == 0 {
		t.Errorf("first look %+v, want a successful 2 s probe with websocket.auth_missing and audited messages", last)
	}
	if st.InProgress.ListenSec != 60 || st.Totals.Probes != 1 {
		t.Errorf("probe in progress listens %v s after %d probes, want the full 60 s right after the first look", st.InProgress.ListenSec, st.Totals.Probes)
	}
}

// runLegacyProber runs a prober of the server's /v1/legacy/ws endpoint
// with module mod (probes every 10 min) until the test ends.
func runLegacyProber(t *testing.T, base, tokFile string, mod Module, logs *syncBuffer) *Prober {
	t.Helper()
	cfg := Config{Interval: 10 * time.Minute, Modules: map[string]Module{"m": mod},
		Targets: []Target{{Name: "legacy", URL: base + "/v1/legacy/ws", Service: "legacy", Policy: fastPolicy(t), TokenFile: tokFile, Module: "m"}}}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg, Options{Registry: prometheus.NewRegistry(), Logger: testLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}
