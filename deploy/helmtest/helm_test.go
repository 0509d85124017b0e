package helmtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

const (
	chartDir    = "../helm/eventwatch"
	release     = "ew"
	namespace   = "observability"
	kubeVersion = "1.30"
	helmHint    = "go install helm.sh/helm/v3/cmd/helm@v3.22.0"
	kvHint      = "go install sigs.k8s.io/kubectl-validate@v0.0.4"
)

// valuesCase is one set of values the chart must render and validate with.
type valuesCase struct {
	name  string
	file  string   // ci/values-*.yaml, "" for the defaults
	set   []string // --set pairs over the file
	kinds []string // kinds the rendering must contain, sorted
}

var cases = []valuesCase{
	{"default", "", nil, []string{"ConfigMap", "PodDisruptionBudget", "Service", "Service", "ServiceAccount", "StatefulSet"}},
	{"deployment", "", []string{"workload=Deployment"}, []string{"ConfigMap", "Deployment", "PersistentVolumeClaim", "PodDisruptionBudget", "Service", "ServiceAccount"}},
	{"sasl-tls", "ci/values-sasl-tls.yaml", nil, []string{"ConfigMap", "PodDisruptionBudget", "Service", "Service", "ServiceAccount", "StatefulSet"}},
	{"postgres-ha", "ci/values-postgres-ha.yaml", nil, []string{"ConfigMap", "PodDisruptionBudget", "Service", "Service", "ServiceAccount", "StatefulSet"}},
	{"postgres-ha-deployment", "ci/values-postgres-ha.yaml", []string{"workload=Deployment"}, []string{"ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"}},
	{"everything", "ci/values-everything.yaml", nil, []string{"ConfigMap", "ConfigMap", "PodDisruptionBudget", "PrometheusRule", "Service", "Service", "ServiceAccount", "ServiceMonitor", "StatefulSet"}},
	{"everything-deployment", "ci/values-everything.yaml", []string{"workload=Deployment"}, []string{"ConfigMap", "ConfigMap", "Deployment", "PodDisruptionBudget", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"}},
}

// TestCasesCoverCIValues keeps the table above in step with ci/.
func TestCasesCoverCIValues(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "values-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range cases {
		listed[c.file] = true
	}
	for _, f := range files {
		rel := filepath.ToSlash(strings.TrimPrefix(f, chartDir+string(filepath.Separator)))
		if !listed[rel] {
			t.Errorf("%s is not in the cases table of helm_test.go", rel)
		}
	}
}

func TestHelmLint(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartDir}
			if c.file != "" {
				args = append(args, "-f", filepath.Join(chartDir, c.file))
			}
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			out, err := runHelm(t, helm, args...)
			if err != nil {
				t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
}

// TestTemplateValidates renders every case and validates each manifest
// with kubectl-validate against Kubernetes 1.30 and the CRD schemas.
func TestTemplateValidates(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	kv := bins.Require(t, kvHint, "kubectl-validate")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs := render(t, helm, c.file, c.set...)
			if got := strings.Join(kindsOf(docs), ","); got != strings.Join(c.kinds, ",") {
				t.Errorf("rendered kinds %s, want %s", got, strings.Join(c.kinds, ","))
			}
			dir := writeDocs(t, docs)
			if out, err := kubectlValidate(t, kv, dir); err != nil {
				t.Fatalf("kubectl-validate: %v\n%s", err, out)
			}
		})
	}
}

// TestValidatorRejectsBrokenManifests proves the validation above can
// fail, for the right reason: a wrong type in a built-in kind, a bad
// duration and an unknown field in the CRD kinds.
func TestValidatorRejectsBrokenManifests(t *testing.T) {
	kv := bins.Require(t, kvHint, "kubectl-validate")
	broken := []struct{ name, doc, want string }{
		{"deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: three\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: i}]}\n",
			"spec.replicas in body must be of type integer"},
		{"servicemonitor", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  endpoints: [{port: http, intervall: 30s}]\n",
			"spec.endpoints[0].intervall: Invalid value: value provided for unknown field"},
		{"prometheusrule", "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\nspec:\n  groups: [{name: g, rules: [{alert: A, expr: up == 0, for: 5 minutes}]}]\n",
			"spec.groups[0].rules[0].for: Invalid value: \"5 minutes\""},
	}
	for _, b := range broken {
		t.Run(b.name, func(t *testing.T) {
			dir := writeDocs(t, []string{b.doc})
			out, err := kubectlValidate(t, kv, dir)
			if err == nil || !strings.Contains(out, b.want) {
				t.Fatalf("kubectl-validate on a broken %s: err=%v, want output with %q:\n%s", b.name, err, b.want, out)
			}
		})
	}
}

// TestRenderFailures checks values the chart must refuse, with the message.
func TestRenderFailures(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	tests := []struct {
		name string
		set  []string
		want string
	}{
		{"replicas without postgres", []string{"replicaCount=3"}, "more than 1 replica needs a shared PostgreSQL store: set store.postgres.existingSecret"},
		{"sasl without secret", []string{"kafka.sasl.mechanism=SCRAM-SHA-256", "kafka.sasl.username=u"}, "kafka.sasl.existingSecret is empty"},
		{"mutual tls half set", []string{"kafka.tls.enabled=true", "kafka.tls.existingSecret=s", "kafka.tls.certKey=tls.crt"}, "certKey and kafka.tls.keyKey must be set together"},
		{"protected metrics without token", []string{"reports.protectMetrics=true"}, "reports.protectMetrics needs reports.token.existingSecret"},
		{"password in config", []string{"config.kafka.sasl.password=hunter2"}, "config.kafka.sasl is rendered by the chart: set kafka.sasl.* instead, with the password in a Secret"},
		{"dsn in config", []string{"config.store.dsn=postgres://u:p@db/ew"}, "config.store.dsn is rendered by the chart: set store.postgres.existingSecret instead"},
		{"token in config", []string{"config.reports.token=t0ken"}, "config.reports.token is rendered by the chart"},
		{"new token key in config", []string{"config.http.token=t0ken"}, "config.http.token is rendered by the chart"},
		{"listen address in config", []string{"config.http.addr=:8080"}, "config.http.addr is rendered by the chart: set service.port instead"},
		{"data dir in config", []string{"config.data_dir=/data"}, "config.data_dir is rendered by the chart"},
		{"schema: unknown mechanism", []string{"kafka.sasl.mechanism=GSSAPI"}, "/kafka/sasl/mechanism"},
		{"schema: broker without port", []string{"kafka.brokers[0]=kafka"}, "/kafka/brokers/0"},
		{"schema: unknown value", []string{"replicas=2"}, "additional properties 'replicas' not allowed"},
		{"schema: zero replicas", []string{"replicaCount=0"}, "/replicaCount"},
		{"schema: unknown workload", []string{"workload=DaemonSet"}, "/workload"},
		{"replicas without postgres in a deployment", []string{"workload=Deployment", "replicaCount=2"}, "more than 1 replica needs a shared PostgreSQL store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"template", release, chartDir, "--kube-version", kubeVersion + ".0"}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			out, err := runHelm(t, helm, args...)
			if err == nil {
				t.Fatalf("helm template with %v succeeded, want failure mentioning %q", tc.set, tc.want)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("helm template with %v failed without %q:\n%s", tc.set, tc.want, out)
			}
		})
	}
}

// runHelm runs helm with its state folders inside the test's temp dir.
func runHelm(t *testing.T, helm string, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helm, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// render runs helm template with the values file (if any) plus extra
// --set pairs and returns the non-empty YAML documents.
func render(t *testing.T, helm, file string, set ...string) []string {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion + ".0"}
	if file != "" {
		args = append(args, "-f", filepath.Join(chartDir, file))
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return splitDocs(string(out))
}

// splitDocs returns the non-empty YAML documents of a helm template output.
func splitDocs(out string) []string {
	var docs []string
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(doc string) string {
	var keep []string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// object is a decoded manifest with the fields the tests read.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec yaml.Node         `yaml:"spec"`
}

func decode(t *testing.T, doc string) object {
	t.Helper()
	var o object
	if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
		t.Fatalf("decode rendered manifest: %v\n%s", err, doc)
	}
	return o
}

func kindsOf(docs []string) []string {
	var kinds []string
	for _, d := range docs {
		var o struct {
			Kind string `yaml:"kind"`
		}
		_ = yaml.Unmarshal([]byte(d), &o)
		kinds = append(kinds, o.Kind)
	}
	slices.Sort(kinds)
	return kinds
}

// find returns the rendered objects of a kind.
func find(t *testing.T, docs []string, kind string) []object {
	t.Helper()
	var out []object
	for _, d := range docs {
		if o := decode(t, d); o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func writeDocs(t *testing.T, docs []string) string {
	t.Helper()
	dir := t.TempDir()
	for i, d := range docs {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d.yaml", i)), []byte(d), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func kubectlValidate(t *testing.T, kv, dir string) (string, error) {
	t.Helper()
	cmd := exec.Command(kv, dir, "--version", kubeVersion, "--local-crds", "testdata/crds")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
