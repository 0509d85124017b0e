package report

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// wsRows are a target's stored probe results for one hour.
func wsRows(hour time.Time, service, target string, probes, failed, noncompliant, msgs, okMsgs int64, rules map[string]int64) []store.ClusterAgg {
	name := store.WebSocketName(service, target)
	out := []store.ClusterAgg{
		{Hour: hour, Kind: store.KindWSProbes, Name: name, Value: float64(failed), Total: float64(probes)},
		{Hour: hour, Kind: store.KindWSNonCompliant, Name: name, Value: float64(noncompliant), Total: float64(probes)},
		{Hour: hour, Kind: store.KindWSMessages, Name: name, Value: float64(okMsgs), Total: float64(msgs)},
	}
	for rule, n := range rules {
		out = append(out, store.ClusterAgg{Hour: hour, Kind: store.KindWSViolations, Name: store.WebSocketName(service, target, rule, "error"), Value: float64(n)})
	}
	return out
}

// TestWebSocketWeekFromStore: the weekly report of a past week carries each
// WebSocket endpoint's week from the store — probes, failures,
// non-compliant probes, messages and violations by rule summed over its
// hours, nothing of other weeks — per service, in every format and in a
// service's own report.
func TestWebSocketWeekFromStore(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t, t.TempDir())
	week := Week{Year: 2026, Num: 47}
	from, _ := week.Range(time.UTC)
	var rows []store.ClusterAgg
	rows = append(rows, wsRows(from.Add(2*time.Hour), "presence-service", "presence", 30, 1, 30, 700, 0, map[string]int64{"websocket.auth_missing": 29, "naming.event_type": 700})...)
	rows = append(rows, wsRows(from.Add(50*time.Hour), "presence-service", "presence", 30, 0, 30, 710, 0, map[string]int64{"websocket.auth_missing": 30, "naming.event_type": 710})...)
	rows = append(rows, wsRows(from.Add(3*time.Hour), "content-service", "content", 30, 0, 0, 690, 690, nil)...)
	rows = append(rows, wsRows(from.Add(-5*time.Hour), "presence-service", "presence", 99, 99, 99, 1, 0, map[string]int64{"websocket.auth_missing": 99})...) // the week before
	if err := st.Write(context.Background(), &store.Batch{Cluster: rows}); err != nil {
		t.Fatal(err)
	}
	now := from.Add(10 * 24 * time.Hour)
	r, err := BuildFor(context.Background(), st, Request{Week: week, Loc: time.UTC, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.WebSockets) != 2 {
		t.Fatalf("websockets %+v, want content and presence", r.WebSockets)
	}
	c, p := r.WebSockets[0], r.WebSockets[1]
	if c.Service != "content-service" || c.Probes != 30 || c.NonCompliantProbes != 0 || c.MessagesAudited != 690 || c.MessagesCompliant != 690 || len(c.Violations) != 0 {
		t.Errorf("content: %+v", c)
	}
	if p.Service != "presence-service" || p.Probes != 60 || p.Failures != 1 || p.NonCompliantProbes != 60 || p.MessagesAudited != 1410 || p.MessagesCompliant != 0 {
		t.Errorf("presence: %+v", p)
	}
	if len(p.Violations) != 2 || p.Violations[0] != (WebSocketRuleRow{Rule: "naming.event_type", Severity: "error", Count: 1410}) ||
		p.Violations[1] != (WebSocketRuleRow{Rule: "websocket.auth_missing", Severity: "error", Count: 59}) {
		t.Errorf("presence violations %+v", p.Violations)
	}
	var md bytes.Buffer
	if err := Render(&md, r, "md"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### WebSocket endpoints of presence-service", "non-compliant in 60 of 60 probes (1 failed)", "compliant in all 30 probes",
		"websocket.auth_missing ×59", "1410 (0)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	own, err := BuildFor(context.Background(), st, Request{Week: week, Service: "content-service", Loc: time.UTC, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(own.WebSockets) != 1 || own.WebSockets[0].Service != "content-service" {
		t.Errorf("content-service's report: %+v, want its endpoint only", own.WebSockets)
	}
}

// TestMergeLiveWebSockets: for the week in progress the prober's view now
// is laid over the stored week; an endpoint without stored rows yet keeps
// the live one.
func TestMergeLiveWebSockets(t *testing.T) {
	started := time.Now()
	week := []WebSocketEndpoint{{Service: "a", Target: "a", Probes: 10, NonCompliantProbes: 10,
		Violations: []WebSocketRuleRow{{Rule: "websocket.auth_missing", Count: 10}}}}
	live := []WebSocketEndpoint{
		{Service: "a", Target: "a", URL: "ws://x/v1/a/ws", LastProbe: &started, Success: true, Heartbeat: "ok", Probes: 3,
			Violations: []WebSocketRuleRow{{Rule: "websocket.auth_missing", Severity: "error", Count: 3, Message: "accepted"}}},
		{Service: "b", Target: "b", URL: "ws://x/v1/b/ws", Probes: 1},
	}
	got := MergeLiveWebSockets(week, live)
	if len(got) != 2 || got[0].URL != "ws://x/v1/a/ws" || got[0].Probes != 10 || got[0].LastProbe == nil || got[0].Heartbeat != "ok" {
		t.Fatalf("merged %+v", got)
	}
	if v := got[0].Violations[0]; v.Count != 10 || v.Message != "accepted" || v.Severity != "error" {
		t.Errorf("rule row %+v, want the week's count with the live message", v)
	}
	if got[1].Service != "b" || got[1].Probes != 1 {
		t.Errorf("live-only endpoint %+v", got[1])
	}
}
