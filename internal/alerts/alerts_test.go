package alerts

import (
	"github.com/eventwatch/eventwatch/internal/testutil/tier"

	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

const promtoolHint = "apt-get install prometheus"

// writeRules renders o's rule file into a fresh directory and returns it.
func writeRules(t *testing.T, o Options) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Write(dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRulesPassPromtoolCheck(t *testing.T) {
	promtool := bins.Require(t, promtoolHint, "promtool")
	short := time.Duration(0)
	for name, o := range map[string]Options{"default": DefaultOptions(), "e2e": withShortFor(DefaultOptions(), &short)} {
		dir := writeRules(t, o)
		out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, RulesFile)).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: promtool check rules: %v\n%s", name, err, out)
		}
	}
}

func withShortFor(o Options, d *time.Duration) Options {
	o.ForOverride = d
	o.EvaluationInterval = time.Second
	return o
}

// TestPromtoolTestRules runs every testdata/*_test.yaml against the rules
// generated with the default options.
func TestPromtoolTestRules(t *testing.T) {
	tier.Slow(t, "promtool evaluates every alert test")
	promtool := bins.Require(t, promtoolHint, "promtool")
	dir := writeRules(t, DefaultOptions())
	tests, err := filepath.Glob(filepath.Join("testdata", "*_test.yaml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no promtool tests in testdata: %v", err)
	}
	var names []string
	for _, src := range tests {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(src))
	}
	cmd := exec.Command(promtool, append([]string{"test", "rules"}, names...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// promtoolTest is the part of a promtool unit-test file this suite reads.
type promtoolTest struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertHasAFiringAndASilentTest requires testdata/<alert>_test.yaml
// for each alert, with a case where it fires and one where it stays silent.
func TestEveryAlertHasAFiringAndASilentTest(t *testing.T) {
	for _, name := range AlertNames(DefaultOptions()) {
		data, err := os.ReadFile(filepath.Join("testdata", name+"_test.yaml"))
		if err != nil {
			t.Errorf("alert %s has no promtool test: %v", name, err)
			continue
		}
		var f promtoolTest
		if err := yaml.Unmarshal(data, &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fires, silent := 0, 0
		for _, tc := range f.Tests {
			for _, a := range tc.AlertRuleTest {
				switch {
				case a.Alertname != name:
					t.Errorf("%s_test.yaml tests another alert, %s", name, a.Alertname)
				case len(a.ExpAlerts) > 0:
					fires++
				default:
					silent++
				}
			}
		}
		if fires == 0 || silent == 0 {
			t.Errorf("%s: %d firing and %d silent cases, want at least one of each", name, fires, silent)
		}
	}
}

func TestEveryAlertIsDocumented(t *testing.T) {
	o := DefaultOptions()
	runbooks, err := os.ReadFile(filepath.Join("..", "..", "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range Groups(o) {
		for _, r := range g.Rules {
			if !strings.Contains(string(runbooks), "\n## "+r.Alert+"\n") {
				t.Errorf("docs/runbooks.md has no '## %s' section", r.Alert)
			}
			checkRule(t, r, o)
		}
	}
}

func checkRule(t *testing.T, r Rule, o Options) {
	t.Helper()
	if r.Labels.Severity != "critical" && r.Labels.Severity != "warning" && r.Labels.Severity != "info" {
		t.Errorf("%s: severity %q", r.Alert, r.Labels.Severity)
	}
	if r.Labels.Category != CategorySymptom && r.Labels.Category != CategorySelf {
		t.Errorf("%s: category %q", r.Alert, r.Labels.Category)
	}
	if r.Annotations.Summary == "" || r.Annotations.Description == "" {
		t.Errorf("%s: summary and description are required", r.Alert)
	}
	if want := o.RunbookBase + "#" + strings.ToLower(r.Alert); r.Annotations.RunbookURL != want {
		t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations.RunbookURL, want)
	}
}

func TestCommittedAlertsAreFresh(t *testing.T) {
	dir := writeRules(t, DefaultOptions())
	for _, name := range []string{RulesFile, AlertmanagerFile} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", "alerts", name))
		if err != nil {
			t.Fatalf("read committed alerts/%s: %v (run 'make generate')", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("alerts/%s is stale: run 'make generate'", name)
		}
	}
}

func TestOptionsChangeThresholds(t *testing.T) {
	o := DefaultOptions()
	o.ComplianceObjective = 0.9
	o.DLQGrowthWindow = 30 * time.Second
	o.Selector = `job="ew"`
	out, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"< 0.9)\n", "the objective is 90%.",
		`increase(eventwatch_dlq_records_total{job="ew"}[30s])`, `up{job="ew"} == 0`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("rules rendered with custom options lack %q", want)
		}
	}
}

// TestMixinParametersReachEveryExpression renders with a chart-like
// selector and other deployment labels: every selector carries the
// matchers, every aggregation keeps the labels, nothing selects the
// default job.
func TestMixinParametersReachEveryExpression(t *testing.T) {
	o := DefaultOptions()
	o.Selector = `job="acme-prod-eventwatch",namespace="observability"`
	o.DeploymentLabels = []string{"k8s_cluster", "namespace", "job"}
	sel := regexp.MustCompile(`(eventwatch_[a-z0-9_]+|\bup)\{([^}]*)\}`)
	agg := regexp.MustCompile(`\b(by|on) \(([^)]*)\)`)
	for _, g := range Groups(o) {
		for _, r := range g.Rules {
			checkMixinExpr(t, r.Alert, r.Expr, sel, agg)
		}
	}
	for _, r := range recordings(o) {
		checkMixinExpr(t, r.Record, r.Expr, sel, agg)
	}
}

func checkMixinExpr(t *testing.T, name, expr string, sel, agg *regexp.Regexp) {
	t.Helper()
	for _, m := range sel.FindAllStringSubmatch(expr, -1) {
		if !strings.HasPrefix(m[2], `job="acme-prod-eventwatch",namespace="observability"`) {
			t.Errorf("%s: selector %s lacks the mixin selector", name, m[0])
		}
	}
	for _, m := range agg.FindAllStringSubmatch(expr, -1) {
		if m[1] == "on" && m[2] == "" {
			continue // `unless on ()`: a whole-selector fallback, not an aggregation
		}
		if !strings.HasPrefix(m[2], "k8s_cluster, namespace, job") {
			t.Errorf("%s: %s drops the deployment labels", name, m[0])
		}
	}
	if strings.Contains(expr, `job="eventwatch"`) || strings.Contains(expr, "sum(") || strings.Contains(expr, "max(") {
		t.Errorf("%s: aggregates across deployments or selects the default job: %s", name, expr)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		mutate func(*Options)
		want   string
	}{
		{func(o *Options) { o.ComplianceObjective = 1.5 }, "compliance objective"},
		{func(o *Options) { o.CoverageObjective = 0 }, "coverage objective"},
		{func(o *Options) { o.DLQGrowthThreshold = -1 }, "DLQ growth threshold"},
		{func(o *Options) { o.Selector = "" }, "selector"},
		{func(o *Options) { o.Selector = "job=eventwatch" }, "selector"},
		{func(o *Options) { o.DeploymentLabels = nil }, "deployment labels"},
		{func(o *Options) { o.DeploymentLabels = []string{"clus-ter"} }, "not a Prometheus label name"},
	}
	for _, tt := range tests {
		o := DefaultOptions()
		tt.mutate(&o)
		if _, err := Render(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Render with bad %s: err = %v", tt.want, err)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, err := Render(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Render(DefaultOptions())
	if !bytes.Equal(a, b) {
		t.Fatal("two renders differ")
	}
}

func TestRulesReferenceCataloguedMetrics(t *testing.T) {
	known := map[string]bool{}
	for _, s := range metrics.All() {
		known[s.Name] = true
	}
	re := regexp.MustCompile(`eventwatch_[a-z0-9_]+`)
	for _, g := range Groups(DefaultOptions()) {
		for _, r := range g.Rules {
			for _, n := range re.FindAllString(r.Expr, -1) {
				if !known[n] {
					t.Errorf("%s: %s is not in the metrics catalogue", r.Alert, n)
				}
			}
		}
	}
}
