package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

const amtoolHint = "apt-get install prometheus-alertmanager"

func writeAlertmanager(t *testing.T) string {
	t.Helper()
	data, err := RenderAlertmanager(ExampleReceivers(), DefaultOptions().DeploymentLabels)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), AlertmanagerFile)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAlertmanagerConfigChecks(t *testing.T) {
	amtool := bins.Require(t, amtoolHint, "amtool")
	for _, p := range []string{writeAlertmanager(t), filepath.Join("..", "..", "alerts", AlertmanagerFile)} {
		out, err := exec.Command(amtool, "check-config", p).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Fatalf("amtool check-config %s: %v\n%s", p, err, out)
		}
	}
}

// TestAlertmanagerRouting asks amtool which receivers get an alert with
// the labels eventwatch's rules produce.
func TestAlertmanagerRouting(t *testing.T) {
	amtool := bins.Require(t, amtoolHint, "amtool")
	cfg := writeAlertmanager(t)
	tests := []struct {
		name   string
		labels []string
		want   string
	}{
		{"DLQ of a team's service goes to the team",
			[]string{"alertname=EventwatchDLQGrowing", "category=symptom", "severity=warning", "source_service=orders", "topic=orders.dlq"},
			"team-orders"},
		{"propagation alert routed on the service label",
			[]string{"alertname=EventwatchPropagationCoverageLow", "category=symptom", "severity=warning", "service=billing"},
			"team-payments"},
		{"critical symptom of a team's service pages and goes to the team",
			[]string{"alertname=EventwatchConsumerGroupStopped", "category=symptom", "severity=critical", "source_service=payments"},
			"pager,team-payments"},
		{"eventwatch down pages and goes to its operators",
			[]string{"alertname=EventwatchDown", "category=eventwatch", "severity=critical", "instance=a:9779"},
			"pager,eventwatch-oncall"},
		{"collector warning goes to eventwatch's operators only",
			[]string{"alertname=EventwatchCollectorFailing", "category=eventwatch", "severity=warning", "collector=lag"},
			"eventwatch-oncall"},
		{"compliance alert with its owning team goes to the team's receiver",
			[]string{"alertname=EventwatchComplianceBelowObjective", "category=symptom", "severity=warning", "cluster=b", "namespace=observability", "job=eventwatch", "topic=orders", "team=payments"},
			"team-payments"},
		{"the team label wins over the service name",
			[]string{"alertname=EventwatchDLQGrowing", "category=symptom", "severity=warning", "topic=orders.dlq", "source_service=orders", "team=payments"},
			"team-payments"},
		{"lag of a group owned by a team goes to the team",
			[]string{"alertname=EventwatchConsumerLagAboveObjective", "category=symptom", "severity=warning", "group=billing", "topic=orders", "team=orders"},
			"team-orders"},
		{"unowned symptom goes to the platform team",
			[]string{"alertname=EventwatchConsumerLagAboveObjective", "category=symptom", "severity=warning", "group=reporting", "topic=orders"},
			"platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"config", "routes", "test", "--config.file=" + cfg, "--verify.receivers=" + tt.want}, tt.labels...)
			cmd := exec.Command(amtool, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("amtool %v: %v\n%s%s", args, err, out, stderr.String())
			}
			if got := strings.TrimSpace(string(out)); got != tt.want {
				t.Fatalf("routed to %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAlertmanagerInhibitsSymptomsWhileEventwatchIsDown loads the example
// configuration into a real Alertmanager, posts symptom alerts of two
// deployments (clusters a and b) and then EventwatchDown of cluster a: a's
// symptoms are inhibited, b's stay active, and a self-monitoring warning is
// never inhibited.
func TestAlertmanagerInhibitsSymptomsWhileEventwatchIsDown(t *testing.T) {
	bin := bins.Require(t, amtoolHint, "prometheus-alertmanager", "alertmanager")
	base := startAlertmanager(t, bin, writeAlertmanager(t))
	in := func(cluster string, l map[string]string) map[string]string {
		l["cluster"], l["namespace"], l["job"] = cluster, "observability", "eventwatch"
		return l
	}
	postAlerts(t, base, []map[string]string{
		in("a", map[string]string{"alertname": "EventwatchDLQGrowing", "category": CategorySymptom, "severity": "warning", "topic": "orders.dlq", "source_service": "orders"}),
		in("a", map[string]string{"alertname": "EventwatchConsumerLagAboveObjective", "category": CategorySymptom, "severity": "warning", "group": "billing", "topic": "orders"}),
		in("a", map[string]string{"alertname": "EventwatchConsumerGroupStopped", "category": CategorySymptom, "severity": "critical", "group": "billing", "status": "STOP"}),
		in("a", map[string]string{"alertname": "EventwatchConsumerLagAboveObjective", "category": CategorySymptom, "severity": "warning", "group": "reporting", "topic": "orders"}),
		in("b", map[string]string{"alertname": "EventwatchConsumerLagAboveObjective", "category": CategorySymptom, "severity": "warning", "group": "billing", "topic": "orders"}),
		in("b", map[string]string{"alertname": "EventwatchConsumerGroupStopped", "category": CategorySymptom, "severity": "critical", "group": "reporting", "status": "STOP"}),
		in("b", map[string]string{"alertname": "EventwatchComplianceBelowObjective", "category": CategorySymptom, "severity": "warning", "topic": "orders", "team": "orders"}),
	})
	waitStates(t, base, map[string]string{
		"a/EventwatchDLQGrowing/":                         "active",
		"a/EventwatchConsumerLagAboveObjective/billing":   "suppressed", // by a's stop alert of the same group
		"a/EventwatchConsumerLagAboveObjective/reporting": "active",
		"b/EventwatchConsumerLagAboveObjective/billing":   "active", // a's billing stop is another deployment's
		"b/EventwatchComplianceBelowObjective/":           "active",
	})
	postAlerts(t, base, []map[string]string{
		in("a", map[string]string{"alertname": "EventwatchDown", "category": CategorySelf, "severity": "critical", "instance": "a-0:9779"}),
		in("a", map[string]string{"alertname": "EventwatchCollectorFailing", "category": CategorySelf, "severity": "warning", "collector": "lag"}),
	})
	waitStates(t, base, map[string]string{
		"a/EventwatchDLQGrowing/":                         "suppressed",
		"a/EventwatchConsumerLagAboveObjective/reporting": "suppressed",
		"a/EventwatchConsumerGroupStopped/billing":        "suppressed",
		"a/EventwatchDown/":                               "active",
		"a/EventwatchCollectorFailing/":                   "active",
		"b/EventwatchConsumerLagAboveObjective/billing":   "active",
		"b/EventwatchConsumerGroupStopped/reporting":      "active",
		"b/EventwatchComplianceBelowObjective/":           "active",
	})
}

func startAlertmanager(t *testing.T, bin, cfg string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+t.TempDir(), "--web.listen-address="+addr, "--cluster.listen-address=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	poll(t, "alertmanager ready", func() error {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("ready: %s", resp.Status)
		}
		return nil
	})
	return base
}

func postAlerts(t *testing.T, base string, labelSets []map[string]string) {
	t.Helper()
	var body []map[string]any
	for _, l := range labelSets {
		body = append(body, map[string]any{"labels": l, "startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339)})
	}
	data, _ := json.Marshal(body)
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts: %s", resp.Status)
	}
}

// waitStates waits until every "cluster/alertname/group" key has the given
// state (active or suppressed).
func waitStates(t *testing.T, base string, want map[string]string) {
	t.Helper()
	poll(t, fmt.Sprintf("alert states %v", want), func() error {
		resp, err := http.Get(base + "/api/v2/alerts")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var got []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				State string `json:"state"`
			} `json:"status"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			return err
		}
		states := map[string]string{}
		for _, a := range got {
			states[a.Labels["cluster"]+"/"+a.Labels["alertname"]+"/"+a.Labels["group"]] = a.Status.State
		}
		for k, v := range want {
			if states[k] != v {
				return fmt.Errorf("%s is %q, want %q (all: %v)", k, states[k], v, states)
			}
		}
		return nil
	})
}

// poll retries check every 100ms for up to 20s.
func poll(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("waiting for %s: %v", what, err)
		case <-tick.C:
		}
	}
}
