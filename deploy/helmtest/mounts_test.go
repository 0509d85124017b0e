package helmtest

import (
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// podMounts is the part of the workload that says which files exist in
// the container.
type podMounts struct {
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name   string `yaml:"name"`
					Secret *struct {
						SecretName string `yaml:"secretName"`
						Items      []struct {
							Key  string `yaml:"key"`
							Path string `yaml:"path"`
						} `yaml:"items"`
					} `yaml:"secret"`
					PersistentVolumeClaim *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// TestSecretFilesAreMounted: every file the rendered config names (SASL
// password, TLS files, report token) is provided by a Secret volume mounted
// at its folder, the data dir is a mounted volume, and a custom policy or
// catalog sits on a mounted volume (extraVolumeMounts).
func TestSecretFilesAreMounted(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs := render(t, helm, c.file, c.set...)
			cfg := renderedConfig(t, docs)
			files := map[string]string{} // in-container path -> what it is
			for what, p := range map[string]string{"kafka.sasl.password_file": cfg.Kafka.SASL.PasswordFile,
				"kafka.tls.ca_file": cfg.Kafka.TLS.CAFile, "kafka.tls.cert_file": cfg.Kafka.TLS.CertFile,
				"kafka.tls.key_file": cfg.Kafka.TLS.KeyFile, "http.token_file": cfg.HTTP.TokenFile} {
				if p != "" {
					files[p] = what
				}
			}
			pm := renderedMounts(t, docs)
			for path, what := range files {
				if !mountedFromSecret(pm, path) {
					t.Errorf("%s %s is not provided by a mounted Secret", what, path)
				}
			}
			if !mountedAt(pm, cfg.DataDir) {
				t.Errorf("data_dir %s is not a mounted volume", cfg.DataDir)
			}
			for _, p := range []string{cfg.Audit.Policy, cfg.Audit.Catalog} {
				if p != "" && !mountedAt(pm, filepath.Dir(p)) {
					t.Errorf("audit file %s is not on a mounted volume (extraVolumeMounts)", p)
				}
			}
		})
	}
}

func renderedMounts(t *testing.T, docs []string) podMounts {
	t.Helper()
	for _, d := range docs {
		if isWorkload(decode(t, d).Kind) {
			var pm podMounts
			if err := yaml.Unmarshal([]byte(d), &pm); err != nil {
				t.Fatal(err)
			}
			return pm
		}
	}
	t.Fatal("no StatefulSet or Deployment rendered")
	return podMounts{}
}

func mountedAt(pm podMounts, dir string) bool {
	for _, m := range pm.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.MountPath == dir {
			return true
		}
	}
	return false
}

// mountedFromSecret reports whether path's folder is a Secret volume's
// mount whose items (if listed) include the file.
func mountedFromSecret(pm podMounts, path string) bool {
	dir, file := filepath.Dir(path), filepath.Base(path)
	for _, m := range pm.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.MountPath != dir {
			continue
		}
		for _, v := range pm.Spec.Template.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil || v.Secret.SecretName == "" {
				continue
			}
			if len(v.Secret.Items) == 0 {
				return true
			}
			for _, it := range v.Secret.Items {
				if it.Path == file {
					return true
				}
			}
		}
	}
	return false
}
