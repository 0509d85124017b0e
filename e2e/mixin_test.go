//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/alerts"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// The labels Prometheus Operator gives the targets of the chart's
// ServiceMonitor for `helm install acme-prod ... -n observability`: job is
// the Service name, namespace the Service's (deploy/helmtest
// TestRulesAndDashboardsSelectWhatTheServiceMonitorScrapes derives them
// from the rendered chart), and the chart's PrometheusRule selects them.
const (
	mxJob       = "acme-prod-eventwatch"
	mxNamespace = "observability"
	mxFor       = 10 * time.Second // every alert's `for`, short so the test stays short
)

// TestMixinRulesThreeReplicas runs three `eventwatch run` replicas of one
// deployment against a real broker, a real Prometheus scraping them the
// way the chart's ServiceMonitor does (job acme-prod-eventwatch, namespace
// and the operator's target labels, honor_labels) and evaluating the rules
// the chart renders for that release. While healthy neither
// EventwatchTargetMissing nor EventwatchLeadershipBroken is pending or
// firing; after a replica is killed EventwatchDown fires for it, and not
// before its `for` has passed.
func TestMixinRulesThreeReplicas(t *testing.T) {
	promBin := bins.Require(t, "apt-get install prometheus", "prometheus")
	b := realkafka.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := dmBinary(ctx, t, dir)
	var procs []*dmProc
	for _, name := range []string{"acme-prod-eventwatch-0", "acme-prod-eventwatch-1", "acme-prod-eventwatch-2"} {
		procs = append(procs, dmStartProc(ctx, t, bin, b.Addr(), filepath.Join(dir, name), 6*time.Second, ""))
	}
	for _, p := range procs {
		p.d.waitReady(t)
	}
	prom := mxStartPrometheus(ctx, t, promBin, dir, procs)
	sel := fmt.Sprintf(`job=%q,namespace=%q`, mxJob, mxNamespace)

	wait.Check(ctx, t, "three targets up and one leader in Prometheus", func() error {
		if err := mxExpectValue(ctx, prom, "sum(up{"+sel+"})", 3); err != nil {
			return err
		}
		return mxExpectValue(ctx, prom, "sum(eventwatch_leader{"+sel+"})", 1)
	})
	obsCheckRuleHealth(ctx, t, prom)
	select { // two more evaluations, so no state is left from before the election
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(3 * time.Second):
	}
	t.Run("healthy: no TargetMissing, no LeadershipBroken", func(t *testing.T) {
		mxNeverAlerts(ctx, t, prom, 2*mxFor, "EventwatchTargetMissing", "EventwatchLeadershipBroken", "EventwatchDown")
	})

	t.Run("a killed replica fires EventwatchDown after its for", func(t *testing.T) {
		victim := mxFollower(t, procs)
		instance := strings.TrimPrefix(victim.d.url, "http://")
		victim.kill(t)
		killed := time.Now()
		var pendingSeen bool
		wait.Check(ctx, t, "EventwatchDown firing for "+instance, func() error {
			state, labels, err := mxAlertState(ctx, prom, "EventwatchDown")
			if err != nil {
				return err
			}
			pendingSeen = pendingSeen || state == "pending"
			if state != "firing" {
				return fmt.Errorf("EventwatchDown is %q", state)
			}
			if since := time.Since(killed); since < mxFor {
				t.Fatalf("EventwatchDown fired %s after the kill, before its for of %s", since, mxFor)
			}
			if labels["instance"] != instance || labels["job"] != mxJob || labels["namespace"] != mxNamespace {
				t.Fatalf("EventwatchDown labels %v, want instance %s of job %s in %s", labels, instance, mxJob, mxNamespace)
			}
			return nil
		})
		if !pendingSeen {
			t.Error("EventwatchDown was never seen pending before firing")
		}
		t.Logf("EventwatchDown fired %.1fs after SIGKILL (for %s, scrape and evaluation every 1s)", time.Since(killed).Seconds(), mxFor)
		mxNeverAlerts(ctx, t, prom, 3*time.Second, "EventwatchTargetMissing", "EventwatchLeadershipBroken")
	})
}

// mxStartPrometheus writes the rules for the chart's acme-prod release and
// a scrape config shaped like the one Prometheus Operator generates from
// the chart's ServiceMonitor, and starts Prometheus.
func mxStartPrometheus(ctx context.Context, t *testing.T, bin, dir string, procs []*dmProc) string {
	t.Helper()
	o := alerts.DefaultOptions()
	o.Selector = fmt.Sprintf(`job=%q,namespace=%q`, mxJob, mxNamespace)
	o.EvaluationInterval = time.Second
	short := mxFor
	o.ForOverride = &short
	rules, err := alerts.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	obsWriteFile(t, filepath.Join(dir, "rules.yaml"), rules)
	var targets strings.Builder
	for i, p := range procs {
		fmt.Fprintf(&targets, "      - targets: [%q]\n        labels: {namespace: %s, service: %s, endpoint: http, container: eventwatch, pod: %s-%d}\n",
			strings.TrimPrefix(p.d.url, "http://"), mxNamespace, mxJob, mxJob, i)
	}
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yaml]
scrape_configs:
  - job_name: serviceMonitor/%[1]s/%[2]s/0
    honor_labels: true
    static_configs:
%[3]s    relabel_configs:
      - {target_label: job, replacement: %[2]s}
`, mxNamespace, mxJob, targets.String())
	path := filepath.Join(dir, "prometheus.yml")
	obsWriteFile(t, path, []byte(cfg))
	addr := freeAddr(t)
	obsStart(ctx, t, "prometheus", bin, "--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		"--web.listen-address="+addr)
	wait.Check(ctx, t, "Prometheus ready", func() error { return obsGet(ctx, "http://"+addr+"/-/ready") })
	return addr
}

// mxFollower returns a live replica that does not lead.
func mxFollower(t *testing.T, procs []*dmProc) *dmProc {
	t.Helper()
	for _, p := range procs {
		if p.alive && p.d.metric(t, "eventwatch_leader") == 0 {
			return p
		}
	}
	t.Fatal("no follower")
	return nil
}

// mxNeverAlerts fails if any of names is pending or firing at any check
// during d.
func mxNeverAlerts(ctx context.Context, t *testing.T, prom string, d time.Duration, names ...string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, n := range names {
			state, labels, err := mxAlertState(ctx, prom, n)
			if err != nil {
				t.Fatal(err)
			}
			if state != "" {
				t.Fatalf("%s is %s (%v) on a healthy deployment", n, state, labels)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// mxAlertState returns the state ("" when inactive) and labels of alert
// name from Prometheus' /api/v1/alerts.
func mxAlertState(ctx context.Context, prom, name string) (string, map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+prom+"/api/v1/alerts", nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", nil, fmt.Errorf("decode alerts: %w", err)
	}
	for _, a := range body.Data.Alerts {
		if a.Labels["alertname"] == name {
			return a.State, a.Labels, nil
		}
	}
	return "", nil, nil
}

// mxExpectValue requires expr to return exactly one sample equal to want.
func mxExpectValue(ctx context.Context, prom, expr string, want float64) error {
	res, err := obsQuery(ctx, prom, expr)
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return fmt.Errorf("%s: %d series, want 1", expr, len(res))
	}
	var s struct {
		Value [2]any `json:"value"`
	}
	if err := json.Unmarshal(res[0], &s); err != nil {
		return err
	}
	if got := fmt.Sprint(s.Value[1]); got != fmt.Sprint(want) {
		return fmt.Errorf("%s = %s, want %v", expr, got, want)
	}
	return nil
}
