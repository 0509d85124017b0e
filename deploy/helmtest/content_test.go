package helmtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// TestRenderedConfigLoads feeds the rendered config.yaml of every case to
// eventwatch's own strict config parser and checks what the values set.
func TestRenderedConfigLoads(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := renderedConfig(t, render(t, helm, c.file, c.set...))
			if cfg.DataDir != "/var/lib/eventwatch" || cfg.HTTP.Addr != ":9779" {
				t.Errorf("data_dir=%q http.addr=%q", cfg.DataDir, cfg.HTTP.Addr)
			}
			if len(cfg.Kafka.Brokers) == 0 {
				t.Error("no kafka.brokers rendered")
			}
		})
	}
	t.Run("sasl-tls values", func(t *testing.T) {
		cfg := renderedConfig(t, render(t, helm, "ci/values-sasl-tls.yaml"))
		k := cfg.Kafka
		want := []string{"SCRAM-SHA-512", "eventwatch", "/etc/eventwatch/secrets/kafka-sasl/password",
			"/etc/eventwatch/secrets/kafka-tls/ca.crt", "/etc/eventwatch/secrets/kafka-tls/tls.crt",
			"/etc/eventwatch/secrets/kafka-tls/tls.key", "kafka.example.internal"}
		got := []string{k.SASL.Mechanism, k.SASL.Username, k.SASL.PasswordFile, k.TLS.CAFile, k.TLS.CertFile, k.TLS.KeyFile, k.TLS.ServerName}
		if !reflect.DeepEqual(got, want) || !k.TLS.Enabled || len(k.Brokers) != 3 {
			t.Errorf("kafka section = %v (tls %v, %d brokers), want %v", got, k.TLS.Enabled, len(k.Brokers), want)
		}
		if cfg.HTTP.TokenFile != "/etc/eventwatch/secrets/reports/token" || cfg.Audit.Profile != "authorworks" || len(cfg.Deprecations) != 0 {
			t.Errorf("http.token_file=%q audit.profile=%q deprecations=%q", cfg.HTTP.TokenFile, cfg.Audit.Profile, cfg.Deprecations)
		}
	})
	t.Run("values.config merged over rendered keys", func(t *testing.T) {
		cfg := renderedConfig(t, render(t, helm, "ci/values-everything.yaml"))
		if cfg.Store.DSN != "${EVENTWATCH_STORE_DSN}" && !strings.HasPrefix(cfg.Store.DSN, "postgres") {
			t.Errorf("store.dsn = %q, want the env reference", cfg.Store.DSN)
		}
		if cfg.Log.Level != "debug" || cfg.Log.Format != "json" || cfg.Lag.Granularity != "partition" || !cfg.Trace.OTLP.Enabled {
			t.Errorf("log=%+v lag.granularity=%q otlp=%v", cfg.Log, cfg.Lag.Granularity, cfg.Trace.OTLP.Enabled)
		}
	})
}

// secretsDir is where the Deployment mounts the Secrets.
const secretsDir = "/etc/eventwatch/secrets/"

// renderedConfig parses the rendered config.yaml as eventwatch would in the
// pod: the Secret mounts are simulated by files in a temp dir (the parser
// reads token files), and the paths are checked against the mounts after.
func renderedConfig(t *testing.T, docs []string) *config.Config {
	t.Helper()
	mounts := t.TempDir() + "/"
	for _, f := range []string{"kafka-sasl/password", "kafka-tls/ca.crt", "kafka-tls/tls.crt", "kafka-tls/tls.key", "reports/token"} {
		if err := os.MkdirAll(filepath.Dir(mounts+f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(mounts+f, []byte("secret-"+filepath.Base(f)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range find(t, docs, "ConfigMap") {
		if text, ok := o.Data["config.yaml"]; ok {
			cfg, err := config.Parse([]byte(strings.ReplaceAll(text, secretsDir, mounts)))
			unmount(cfg, mounts)
			if err != nil {
				t.Fatalf("rendered config.yaml does not load: %v\n%s", err, text)
			}
			return cfg
		}
	}
	t.Fatal("no ConfigMap with config.yaml rendered")
	return nil
}

// deployment is the part of the workload (StatefulSet or Deployment) the
// tests read.
type deployment struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Replicas int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		UpdateStrategy struct {
			Type string `yaml:"type"`
		} `yaml:"updateStrategy"`
		PodManagementPolicy string `yaml:"podManagementPolicy"`
		ServiceName         string `yaml:"serviceName"`
		Selector            struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
		Template struct {
			Metadata struct {
				Annotations map[string]string `yaml:"annotations"`
				Labels      map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Env []struct {
						Name string `yaml:"name"`
					} `yaml:"env"`
					LivenessProbe  probe `yaml:"livenessProbe"`
					ReadinessProbe probe `yaml:"readinessProbe"`
					Resources      struct {
						Requests map[string]string `yaml:"requests"`
					} `yaml:"resources"`
					SecurityContext struct {
						ReadOnlyRootFilesystem   bool `yaml:"readOnlyRootFilesystem"`
						AllowPrivilegeEscalation bool `yaml:"allowPrivilegeEscalation"`
					} `yaml:"securityContext"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

// isWorkload reports whether kind is one the chart runs eventwatch as.
func isWorkload(kind string) bool {
	return kind == "StatefulSet" || kind == "Deployment"
}

// renderedDeployment returns the rendered workload, StatefulSet or
// Deployment.
func renderedDeployment(t *testing.T, docs []string) deployment {
	t.Helper()
	for _, d := range docs {
		if isWorkload(decode(t, d).Kind) {
			var dep deployment
			if err := yaml.Unmarshal([]byte(d), &dep); err != nil {
				t.Fatal(err)
			}
			return dep
		}
	}
	t.Fatal("no StatefulSet or Deployment rendered")
	return deployment{}
}

// TestDeploymentHardening checks non-root, read-only root, probes,
// resources, grace period and the strategy that suits the store.
func TestDeploymentHardening(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dep := renderedDeployment(t, render(t, helm, c.file, c.set...))
			pod := dep.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			ctr := pod.Containers[0]
			if !pod.SecurityContext.RunAsNonRoot || !ctr.SecurityContext.ReadOnlyRootFilesystem || ctr.SecurityContext.AllowPrivilegeEscalation {
				t.Errorf("security: runAsNonRoot=%v readOnlyRootFilesystem=%v allowPrivilegeEscalation=%v",
					pod.SecurityContext.RunAsNonRoot, ctr.SecurityContext.ReadOnlyRootFilesystem, ctr.SecurityContext.AllowPrivilegeEscalation)
			}
			if ctr.LivenessProbe.HTTPGet.Path != "/healthz" || ctr.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("probes on %q and %q", ctr.LivenessProbe.HTTPGet.Path, ctr.ReadinessProbe.HTTPGet.Path)
			}
			if ctr.Resources.Requests["memory"] == "" || pod.TerminationGracePeriodSeconds < 15 {
				t.Errorf("requests=%v terminationGracePeriodSeconds=%d", ctr.Resources.Requests, pod.TerminationGracePeriodSeconds)
			}
			if len(dep.Spec.Template.Metadata.Annotations["checksum/config"]) != 64 {
				t.Errorf("no sha256 checksum/config annotation: %v", dep.Spec.Template.Metadata.Annotations)
			}
			if dep.Kind == "StatefulSet" {
				if dep.Spec.UpdateStrategy.Type != "RollingUpdate" || dep.Spec.PodManagementPolicy != "Parallel" {
					t.Errorf("StatefulSet updateStrategy %q podManagementPolicy %q, want RollingUpdate and Parallel",
						dep.Spec.UpdateStrategy.Type, dep.Spec.PodManagementPolicy)
				}
				return
			}
			wantStrategy := "RollingUpdate"
			if slicesContain(c.kinds, "PersistentVolumeClaim") {
				wantStrategy = "Recreate"
			}
			if dep.Spec.Strategy.Type != wantStrategy {
				t.Errorf("strategy %s, want %s", dep.Spec.Strategy.Type, wantStrategy)
			}
		})
	}
}

// TestConfigChecksumFollowsConfig: a config change must roll the pods.
func TestConfigChecksumFollowsConfig(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	sum := func(set ...string) string {
		return renderedDeployment(t, render(t, helm, "", set...)).Spec.Template.Metadata.Annotations["checksum/config"]
	}
	base := sum()
	if base == "" || base != sum() {
		t.Fatalf("checksum empty or unstable: %q", base)
	}
	if sum("config.log.level=debug") == base {
		t.Fatal("checksum/config unchanged after a config change")
	}
	if sum("podLabels.team=x") != base {
		t.Fatal("checksum/config changed without a config change")
	}
}

// unmount puts the in-pod secret paths back, so tests compare those.
func unmount(cfg *config.Config, mounts string) {
	if cfg == nil {
		return
	}
	for _, p := range []*string{&cfg.Kafka.SASL.PasswordFile, &cfg.Kafka.TLS.CAFile, &cfg.Kafka.TLS.CertFile, &cfg.Kafka.TLS.KeyFile, &cfg.HTTP.TokenFile} {
		*p = strings.Replace(*p, mounts, secretsDir, 1)
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestRenderedRuleMetadata: the PrometheusRule lands where the values say,
// with the labels a Prometheus ruleSelector needs, and promtool accepts it.
func TestRenderedRuleMetadata(t *testing.T) {
	helm := requireHelm(t)
	rules := find(t, render(t, helm, "ci/values-everything.yaml"), "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(rules))
	}
	if rules[0].Metadata.Namespace != "monitoring" || rules[0].Metadata.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("PrometheusRule metadata = %+v", rules[0].Metadata)
	}
	promtoolCheck(t, rules[0].Spec)
}

func requireHelm(t *testing.T) string {
	t.Helper()
	return bins.Require(t, helmHint, "helm")
}

// promtoolCheckText runs promtool check rules on a rule file.
func promtoolCheckText(t *testing.T, rules []byte) {
	t.Helper()
	var spec yaml.Node
	if err := yaml.Unmarshal(rules, &spec); err != nil {
		t.Fatal(err)
	}
	promtoolCheck(t, *spec.Content[0])
}

func promtoolCheck(t *testing.T, spec yaml.Node) {
	t.Helper()
	promtool := bins.Require(t, "apt-get install -y prometheus", "promtool")
	out, err := yaml.Marshal(&spec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err := runCmd(promtool, "check", "rules", path); err != nil {
		t.Fatalf("promtool check rules on the rendered PrometheusRule: %v\n%s", err, res)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHTTPSProbesAndScrape: when eventwatch serves HTTPS the probes and the
// ServiceMonitor switch scheme, and the certificate can be mounted.
func TestHTTPSProbesAndScrape(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	docs := render(t, helm, "", "config.http.tls_cert_file=/etc/eventwatch/https/tls.crt",
		"config.http.tls_key_file=/etc/eventwatch/https/tls.key", "serviceMonitor.enabled=true",
		"serviceMonitor.tlsConfig.insecureSkipVerify=true")
	for _, d := range docs {
		o := decode(t, d)
		switch o.Kind {
		case "StatefulSet", "Deployment":
			if n := strings.Count(d, "scheme: HTTPS"); n != 2 {
				t.Errorf("%s has %d HTTPS probes, want 2", o.Kind, n)
			}
		case "ServiceMonitor":
			if !strings.Contains(d, "scheme: https") || !strings.Contains(d, "insecureSkipVerify: true") {
				t.Errorf("ServiceMonitor does not scrape over HTTPS:\n%s", d)
			}
		}
	}
	kv := bins.Require(t, kvHint, "kubectl-validate")
	if out, err := kubectlValidate(t, kv, writeDocs(t, docs)); err != nil {
		t.Fatalf("kubectl-validate: %v\n%s", err, out)
	}
}
