package alerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

const amtoolHint = "apt-get install prometheus-alertmanager"

func writeAlertmanager(t *testing.T) string {
	t.Helper()
	data, err := RenderAlertmanager(ExampleReceivers())
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
