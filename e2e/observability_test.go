//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/alerts"
	"github.com/eventwatch/eventwatch/internal/dashboards"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// obsMustHaveData lists the dashboard panels the demo scenario feeds
// (compliant and faulty producers, a slow consumer, a growing DLQ,
// multi-hop correlated flows): their queries must return series, not just
// succeed. Panels left out depend on things the demo does not do within
// the test's minute (broken chains). Admin API errors and sampler drops
// are exported at 0 from start, so their panels (health 14, 23) have data. Only each panel's first query (refId A) is required to have
// data; the test logs which of the others did.
var obsMustHaveData = map[string][]uint32{
	"eventwatch-compliance": {2, 3, 4, 5, 11, 12, 13, 14, 21, 22, 23, 24, 25},
	"eventwatch-lag":        {2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 21, 22, 23, 24},
	"eventwatch-flows":      {2, 3, 5, 6, 7, 11, 12, 13, 14, 22},
	"eventwatch-health":     {2, 3, 4, 5, 11, 12, 13, 14, 15, 21, 22, 23, 24, 31, 32, 33, 34, 35, 36, 37},
}

// TestObservabilityStack runs the demo, a real Prometheus scraping it with
// the generated rules, and a real Alertmanager routing to a webhook owned
// by the test. Every dashboard query must evaluate without error (and with
// data where the demo feeds it), and the DLQ-growth alert must arrive at
// the webhook through Alertmanager.
func TestObservabilityStack(t *testing.T) {
	promBin := bins.Require(t, "apt-get install prometheus", "prometheus")
	amBin := bins.Require(t, "apt-get install prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()

	ewAddr := obsStartDemo(ctx, t, dir)
	hook := obsStartWebhook(t)
	amAddr := obsStartAlertmanager(ctx, t, amBin, dir, hook.URL())
	promAddr := obsStartPrometheus(ctx, t, promBin, dir, ewAddr, amAddr)

	wait.Check(ctx, t, "Prometheus to scrape eventwatch", func() error {
		return obsExpectData(ctx, promAddr, `up{job="eventwatch"} == 1`)
	})
	t.Run("dashboard queries", func(t *testing.T) { obsCheckDashboards(ctx, t, promAddr) })
	t.Run("rules evaluate without error", func(t *testing.T) { obsCheckRuleHealth(ctx, t, promAddr) })
	t.Run("DLQ growth reaches the webhook", func(t *testing.T) {
		wait.Check(ctx, t, "EventwatchDLQGrowing at the webhook", func() error {
			return hook.has("EventwatchDLQGrowing", "firing")
		})
	})
	t.Run("symptom alerts reach the owning team's receiver", func(t *testing.T) {
		wait.Check(ctx, t, "a compliance alert routed to its team", func() error { return hook.routedToTeam("EventwatchComplianceBelowObjective") })
		wait.Check(ctx, t, "a DLQ alert routed to its team", func() error { return hook.routedToTeam("EventwatchDLQGrowing") })
	})
	t.Run("slow consumer fires the lag alert", func(t *testing.T) {
		wait.Check(ctx, t, "EventwatchConsumerLagAboveObjective firing", func() error {
			return obsExpectData(ctx, promAddr, `ALERTS{alertname="EventwatchConsumerLagAboveObjective",alertstate="firing"}`)
		})
		res, err := obsQuery(ctx, promAddr, `count by (alertname) (ALERTS{alertstate="firing"})`)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("alerts firing on the demo: %s", res)
		// The demo's DLQ is minutes old: "not drained for a day" must not fire.
		if res, err := obsQuery(ctx, promAddr, `ALERTS{alertname="EventwatchDLQNotDrained"}`); err != nil || len(res) > 0 {
			t.Errorf("EventwatchDLQNotDrained on a young DLQ: %s (err %v)", res, err)
		}
	})
}

func obsCheckDashboards(ctx context.Context, t *testing.T, prom string) {
	pending := map[string]string{}  // panel name -> expression that must return series
	optional := map[string]string{} // queries the demo need not feed
	for _, b := range dashboards.Boards(dashboards.DefaultOptions()) {
		must := map[uint32]bool{}
		for _, id := range obsMustHaveData[b.UID] {
			must[id] = true
		}
		b.EachQuery(func(p dashboards.Panel, ref string, q dashboards.Query) {
			expr := dashboards.Expand(q.Expr, "30s", "5m")
			name := fmt.Sprintf("%s panel %d %q %s", b.UID, p.ID, p.Title, ref)
			if _, err := obsQuery(ctx, prom, expr); err != nil {
				t.Errorf("%s: %v\nquery: %s", name, err, expr)
				return
			}
			if must[p.ID] && ref == "A" {
				pending[name] = expr
			} else {
				optional[name] = expr
			}
		})
	}
	defer obsLogOptional(ctx, t, prom, optional)
	// The demo needs a few collection cycles before lag, DLQ and flow
	// metrics exist: poll the panels still without data for up to 4 minutes.
	dataCtx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for len(pending) > 0 {
		for name, expr := range pending {
			if obsExpectData(dataCtx, prom, expr) == nil {
				delete(pending, name)
			}
		}
		select {
		case <-dataCtx.Done():
			for name, expr := range pending {
				t.Errorf("%s: no data from the demo\nquery: %s", name, expr)
			}
			return
		case <-tick.C:
		}
	}
}

// obsLogOptional logs which queries outside obsMustHaveData returned data,
// to keep that list honest.
func obsLogOptional(ctx context.Context, t *testing.T, prom string, optional map[string]string) {
	var with, without []string
	for name, expr := range optional {
		if obsExpectData(ctx, prom, expr) == nil {
			with = append(with, name)
		} else {
			without = append(without, name)
		}
	}
	sort.Strings(with)
	sort.Strings(without)
	t.Logf("optional queries with data: %q", with)
	t.Logf("optional queries without data: %q", without)
}

// obsCheckRuleHealth requires every generated rule to have been evaluated
// by Prometheus against the demo's series without an error (e.g. a
// many-to-many match only real data reveals).
func obsCheckRuleHealth(ctx context.Context, t *testing.T, prom string) {
	wait.Check(ctx, t, "every rule evaluated", func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+prom+"/api/v1/rules", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						Name, Health, LastError string
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		n := 0
		for _, g := range body.Data.Groups {
			for _, r := range g.Rules {
				n++
				if r.Health == "err" {
					t.Fatalf("rule %s fails on real data: %s", r.Name, r.LastError)
				}
				if r.Health != "ok" {
					return fmt.Errorf("rule %s not evaluated yet (%s)", r.Name, r.Health)
				}
			}
		}
		if n == 0 {
			return fmt.Errorf("Prometheus loaded no rules")
		}
		return nil
	})
}

func obsStartDemo(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	bin := os.Getenv("EVENTWATCH_BIN") // a prebuilt binary (e.g. make build's bin/eventwatch), else built here
	if bin == "" {
		bin = filepath.Join(dir, "eventwatch")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/eventwatch/eventwatch/cmd/eventwatch")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build eventwatch: %v\n%s", err, out)
		}
	}
	addr := freeAddr(t)
	obsStart(ctx, t, "eventwatch-demo", bin, "demo", "--http-addr", addr, "--kafka-addr", freeAddr(t),
		"--data-dir", filepath.Join(dir, "demo-data"))
	wait.Check(ctx, t, "eventwatch demo /metrics", func() error { return obsGet(ctx, "http://"+addr+"/metrics") })
	return addr
}

func obsStartAlertmanager(ctx context.Context, t *testing.T, bin, dir, hookURL string) string {
	t.Helper()
	r := alerts.ExampleReceivers()
	r.Platform, r.Pager, r.Eventwatch = hookURL, hookURL, hookURL
	for i := range r.Teams {
		r.Teams[i].URL = hookURL
	}
	for _, team := range []string{"content", "essays", "imports"} { // the demo's ownership map
		r.Teams = append(r.Teams, alerts.Team{Name: "team-" + team, Label: team, URL: hookURL})
	}
	cfg, err := alerts.RenderAlertmanager(r, alerts.DefaultOptions().DeploymentLabels)
	if err != nil {
		t.Fatal(err)
	}
	// Same routing, faster first notification than the example's 30s.
	fast := bytes.Replace(cfg, []byte("group_wait: 30s"), []byte("group_wait: 1s"), 1)
	if bytes.Equal(fast, cfg) {
		t.Fatal("the Alertmanager example no longer sets group_wait: 30s; update this test")
	}
	path := filepath.Join(dir, "alertmanager.yml")
	obsWriteFile(t, path, fast)
	addr := freeAddr(t)
	obsStart(ctx, t, "alertmanager", bin, "--config.file="+path, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	wait.Check(ctx, t, "Alertmanager ready", func() error { return obsGet(ctx, "http://"+addr+"/-/ready") })
	return addr
}

func obsStartPrometheus(ctx context.Context, t *testing.T, bin, dir, target, am string) string {
	t.Helper()
	o := alerts.DefaultOptions()
	zero := time.Duration(0)
	o.ForOverride = &zero
	o.EvaluationInterval = time.Second
	o.DLQGrowthWindow = 30 * time.Second
	rules, err := alerts.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	obsWriteFile(t, filepath.Join(dir, "rules.yaml"), rules)
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yaml]
alerting:
  alertmanagers: [{static_configs: [{targets: [%q]}]}]
scrape_configs:
  - job_name: eventwatch
    static_configs: [{targets: [%q]}]
`, am, target)
	path := filepath.Join(dir, "prometheus.yml")
	obsWriteFile(t, path, []byte(cfg))
	addr := freeAddr(t)
	obsStart(ctx, t, "prometheus", bin, "--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+addr)
	wait.Check(ctx, t, "Prometheus ready", func() error { return obsGet(ctx, "http://"+addr+"/-/ready") })
	return addr
}

// obsStart runs a program until the test ends, then stops it with SIGTERM;
// its output is logged when the test fails.
func obsStart(ctx context.Context, t *testing.T, name, bin string, args ...string) {
	t.Helper()
	var out syncLog
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("--- %s output (last 8 KiB) ---\n%s", name, out.tail(8<<10))
		}
	})
}

// obsWebhook records the alerts Alertmanager posts.
type obsWebhook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []obsAlert
}

type obsAlert struct {
	Receiver string            `json:"-"` // the Alertmanager receiver that sent it
	Status   string            `json:"status"`
	Labels   map[string]string `json:"labels"`
}

func obsStartWebhook(t *testing.T) *obsWebhook {
	h := &obsWebhook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Receiver string     `json:"receiver"`
			Alerts   []obsAlert `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		for _, a := range msg.Alerts {
			a.Receiver = msg.Receiver
			h.alerts = append(h.alerts, a)
		}
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *obsWebhook) URL() string { return h.srv.URL + "/alerts" }

func (h *obsWebhook) has(alertname, status string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var seen []string
	for _, a := range h.alerts {
		if a.Labels["alertname"] == alertname && a.Status == status {
			if a.Receiver == "" || a.Labels["severity"] == "" || a.Labels["category"] == "" {
				return fmt.Errorf("%s arrived without receiver, severity or category: %+v", alertname, a)
			}
			return nil
		}
		seen = append(seen, a.Labels["alertname"]+"/"+a.Status)
	}
	return fmt.Errorf("no %s %s alert yet; received %v", status, alertname, seen)
}

// routedToTeam succeeds once an alertname alert carrying a team label
// (joined from eventwatch_service_team_info by the rules) arrived through
// that team's receiver.
func (h *obsWebhook) routedToTeam(alertname string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var seen []string
	for _, a := range h.alerts {
		if a.Labels["alertname"] != alertname {
			continue
		}
		if team := a.Labels["team"]; team != "" && a.Receiver == "team-"+team {
			return nil
		}
		seen = append(seen, a.Labels["alertname"]+" team="+a.Labels["team"]+" via "+a.Receiver)
	}
	return fmt.Errorf("no %s routed to its team yet; received %v", alertname, seen)
}

// obsQuery runs an instant query and returns its result, or the error
// Prometheus reports.
func obsQuery(ctx context.Context, prom, expr string) ([]json.RawMessage, error) {
	u := "http://" + prom + "/api/v1/query?query=" + url.QueryEscape(expr)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode query response (HTTP %d): %w", resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query failed: %s", body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %s, want vector", body.Data.ResultType)
	}
	return body.Data.Result, nil
}

func obsExpectData(ctx context.Context, prom, expr string) error {
	res, err := obsQuery(ctx, prom, expr)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return fmt.Errorf("no series for %s", expr)
	}
	return nil
}

// obsGet GETs u and wants a 200.
func obsGet(ctx context.Context, u string) error {
	_, _, err := rpGet(ctx, u)
	return err
}

func obsWriteFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
