package helmtest

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/alerts"
	"github.com/eventwatch/eventwatch/internal/dashboards"
	"github.com/eventwatch/eventwatch/internal/mixin"
)

// The release name of the mixin tests: anything but "eventwatch", so the
// Service (and the job Prometheus Operator derives from it) is
// acme-prod-eventwatch.
const mixinRelease = "acme-prod"

// renderRelease runs helm template for release with the ServiceMonitor,
// PrometheusRule and dashboards on, plus set.
func renderRelease(t *testing.T, helm, release string, set ...string) []string {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion + ".0",
		"--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true", "--set", "dashboards.enabled=true"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := runHelm(t, helm, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return splitDocs(out)
}

// scrapeLabels returns the job and namespace labels Prometheus Operator
// gives the targets of the rendered ServiceMonitor: job is the value of
// the Service's jobLabel label when the ServiceMonitor sets jobLabel and
// the Service has it, else the Service name; namespace is the Service's.
func scrapeLabels(t *testing.T, docs []string) (job, ns string) {
	t.Helper()
	var sm struct {
		Spec struct {
			JobLabel          string        `yaml:"jobLabel"`
			Selector          labelSelector `yaml:"selector"`
			NamespaceSelector struct {
				MatchNames []string `yaml:"matchNames"`
			} `yaml:"namespaceSelector"`
			Endpoints []struct {
				HonorLabels bool `yaml:"honorLabels"`
			} `yaml:"endpoints"`
		} `yaml:"spec"`
	}
	decodeKind(t, docs, "ServiceMonitor", &sm)
	if len(sm.Spec.Endpoints) != 1 || !sm.Spec.Endpoints[0].HonorLabels {
		t.Errorf("ServiceMonitor endpoints %+v: want one with honorLabels (eventwatch's service label must survive the scrape)", sm.Spec.Endpoints)
	}
	var selected []string
	for _, svc := range find(t, docs, "Service") {
		if !sm.Spec.Selector.selects(svc.Metadata.Labels) || !slices.Contains(sm.Spec.NamespaceSelector.MatchNames, svc.Metadata.Namespace) {
			continue
		}
		selected = append(selected, svc.Metadata.Name)
		if len(selected) > 1 {
			continue
		}
		job, ns = svc.Metadata.Name, svc.Metadata.Namespace
		if v, ok := svc.Metadata.Labels[sm.Spec.JobLabel]; sm.Spec.JobLabel != "" && ok {
			job = v
		}
	}
	switch len(selected) {
	case 0:
		t.Fatal("the ServiceMonitor selects no rendered Service")
	case 1:
	default:
		t.Errorf("the ServiceMonitor selects Services %v: each pod would be scraped once per Service", selected)
	}
	return job, ns
}

// labelSelector is a Kubernetes label selector with the operators the
// chart uses.
type labelSelector struct {
	MatchLabels      map[string]string `yaml:"matchLabels"`
	MatchExpressions []struct {
		Key      string   `yaml:"key"`
		Operator string   `yaml:"operator"`
		Values   []string `yaml:"values"`
	} `yaml:"matchExpressions"`
}

func (s labelSelector) selects(labels map[string]string) bool {
	if !matches(labels, s.MatchLabels) {
		return false
	}
	for _, e := range s.MatchExpressions {
		v, ok := labels[e.Key]
		switch e.Operator {
		case "In":
			if !ok || !slices.Contains(e.Values, v) {
				return false
			}
		case "NotIn":
			if ok && slices.Contains(e.Values, v) {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default:
			panic("unknown selector operator " + e.Operator)
		}
	}
	return true
}

func matches(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return len(want) > 0
}

// TestRulesAndDashboardsSelectWhatTheServiceMonitorScrapes renders the chart
// as acme-prod with the ServiceMonitor on: every selector of every rule
// and the dashboards' variables match the job and namespace the
// ServiceMonitor gives the targets, so EventwatchTargetMissing stays
// silent, EventwatchDown can fire and "Replicas up" has data.
func TestRulesAndDashboardsSelectWhatTheServiceMonitorScrapes(t *testing.T) {
	helm := requireHelm(t)
	for _, release := range []string{mixinRelease, "eventwatch", "ew-cluster-b"} {
		t.Run(release, func(t *testing.T) {
			docs := renderRelease(t, helm, release)
			job, ns := scrapeLabels(t, docs)
			want := map[string]string{"job": job, "namespace": ns}
			for name, expr := range ruleExprs(t, docs) {
				node, err := parser.ParseExpr(expr)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for _, sel := range parser.ExtractSelectors(node) {
					if metric := metricName(sel); strings.HasPrefix(metric, "eventwatch_") || metric == "up" {
						checkEqualMatchers(t, name, metric, sel, want)
					}
				}
			}
			for file, board := range renderedBoards(t, docs) {
				for _, v := range board.Templating.List {
					if v.Name == "job" && !strings.Contains(v.Query, `job="`+job+`",namespace="`+ns+`"`) {
						t.Errorf("%s: job variable %q does not select job %s in %s", file, v.Query, job, ns)
					}
				}
			}
		})
	}
}

func checkEqualMatchers(t *testing.T, rule, metric string, sel []*labels.Matcher, want map[string]string) {
	t.Helper()
	for name, value := range want {
		ok := slices.ContainsFunc(sel, func(m *labels.Matcher) bool {
			return m.Name == name && m.Type == labels.MatchEqual && m.Value == value
		})
		if !ok {
			t.Errorf("%s: %s selector %v does not select %s=%q", rule, metric, sel, name, value)
		}
	}
}

func metricName(sel []*labels.Matcher) string {
	for _, m := range sel {
		if m.Name == labels.MetricName {
			return m.Value
		}
	}
	return ""
}

// TestChartMixinEqualsGenerate: what the chart renders for its
// monitoring.* values is byte for byte (dashboards) and rule for rule what
// `eventwatch generate` writes for the same parameters.
func TestChartMixinEqualsGenerate(t *testing.T) {
	helm := requireHelm(t)
	tests := []struct {
		name string
		set  []string
		p    mixin.Params
	}{
		{"defaults", nil, mixin.Params{Selector: `job="acme-prod-eventwatch",namespace="` + namespace + `"`,
			DeploymentLabels: []string{"cluster", "namespace", "job"}, ClusterLabel: "cluster"}},
		{"custom", []string{`monitoring.selector=job=~"ew-.*"\,env="prod"`, "monitoring.deploymentLabels={k8s_cluster,job}", "monitoring.clusterLabel=k8s_cluster"},
			mixin.Params{Selector: `job=~"ew-.*",env="prod"`, DeploymentLabels: []string{"k8s_cluster", "job"}, ClusterLabel: "k8s_cluster"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs := renderRelease(t, helm, mixinRelease, tc.set...)
			o := alerts.DefaultOptions()
			o.Params = tc.p
			want, err := alerts.Render(o)
			if err != nil {
				t.Fatal(err)
			}
			var rendered struct {
				Spec any `yaml:"spec"`
			}
			decodeKind(t, docs, "PrometheusRule", &rendered)
			var generated any
			if err := yaml.Unmarshal(want, &generated); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rendered.Spec, generated) {
				t.Errorf("PrometheusRule spec differs from eventwatch generate alerts with %+v", tc.p)
			}
			promtoolCheckText(t, want)
			boards := rawBoards(t, docs)
			d := dashboards.DefaultOptions()
			d.Params = tc.p
			for _, b := range dashboards.Boards(d) {
				data, err := dashboards.Render(b)
				if err != nil {
					t.Fatal(err)
				}
				want := releaseBoard(string(data), strings.TrimSuffix(b.FileName(), ".json"), mixinRelease, namespace)
				if got := boards[releaseUID(strings.TrimSuffix(b.FileName(), ".json"), mixinRelease, namespace)+".json"]; got != strings.TrimSuffix(want, "\n") {
					t.Errorf("dashboard %s in the ConfigMap differs from eventwatch generate dashboards with %+v", b.FileName(), tc.p)
				}
			}
			if len(boards) != len(dashboards.Boards(d)) {
				t.Errorf("ConfigMap has %d dashboards, want %d", len(boards), len(dashboards.Boards(d)))
			}
		})
	}
}

// TestMixinValuesAreChecked: the schema refuses a selector that is not a
// list of matchers and an empty label list.
func TestMixinValuesAreChecked(t *testing.T) {
	helm := requireHelm(t)
	for _, set := range [][]string{{"--set", "monitoring.selector=job"}, {"--set-json", "monitoring.deploymentLabels=[]"},
		{"--set", "monitoring.deploymentLabels=null"}, {"--set", "monitoring.clusterLabel=k8s-cluster"}} {
		args := append([]string{"template", mixinRelease, chartDir, "--kube-version", kubeVersion + ".0"}, set...)
		if out, err := runHelm(t, helm, args...); err == nil || !strings.Contains(out, "monitoring") {
			t.Errorf("helm template --set %s: err=%v, want a schema error on monitoring:\n%s", set, err, out)
		}
	}
}

func ruleExprs(t *testing.T, docs []string) map[string]string {
	t.Helper()
	var pr struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert, Record, Expr string
				} `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	decodeKind(t, docs, "PrometheusRule", &pr)
	out := map[string]string{}
	for _, g := range pr.Spec.Groups {
		for i, r := range g.Rules {
			out[r.Alert+r.Record+"#"+string(rune('a'+i))] = r.Expr
		}
	}
	if len(out) == 0 {
		t.Fatal("the PrometheusRule has no rules")
	}
	return out
}

type boardJSON struct {
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

func rawBoards(t *testing.T, docs []string) map[string]string {
	t.Helper()
	for _, o := range find(t, docs, "ConfigMap") {
		if o.Metadata.Labels["grafana_dashboard"] == "1" {
			return o.Data
		}
	}
	t.Fatal("no dashboards ConfigMap rendered")
	return nil
}

func renderedBoards(t *testing.T, docs []string) map[string]boardJSON {
	t.Helper()
	out := map[string]boardJSON{}
	for name, text := range rawBoards(t, docs) {
		var b boardJSON
		if err := json.Unmarshal([]byte(text), &b); err != nil {
			t.Fatalf("dashboard %s in the ConfigMap is not JSON: %v", name, err)
		}
		out[name] = b
	}
	return out
}

func decodeKind(t *testing.T, docs []string, kind string, into any) {
	t.Helper()
	for _, d := range docs {
		if decode(t, d).Kind == kind {
			if err := yaml.Unmarshal([]byte(d), into); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no %s rendered", kind)
}
