package helmtest

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/sample"
	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// podEnv is the container environment of the rendered workload.
type podEnv struct {
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Env []struct {
						Name      string `yaml:"name"`
						ValueFrom struct {
							FieldRef struct {
								FieldPath string `yaml:"fieldPath"`
							} `yaml:"fieldRef"`
						} `yaml:"valueFrom"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// instanceIDSource returns the fieldPath EVENTWATCH_INSTANCE_ID comes
// from, "" when the variable is not set.
func instanceIDSource(t *testing.T, docs []string) string {
	t.Helper()
	for _, d := range docs {
		if !isWorkload(decode(t, d).Kind) {
			continue
		}
		var p podEnv
		if err := yaml.Unmarshal([]byte(d), &p); err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Spec.Template.Spec.Containers[0].Env {
			if e.Name == sample.InstanceIDEnv {
				return e.ValueFrom.FieldRef.FieldPath
			}
		}
	}
	return ""
}

// TestStaticMembershipFromPodName: every values case gives the sampler a
// stable identity, the pod's name (it survives container restarts, so a
// kill -9 resumes at once); staticMembership=false leaves it out.
func TestStaticMembershipFromPodName(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	for _, c := range cases {
		if got := instanceIDSource(t, render(t, helm, c.file, c.set...)); got != "metadata.name" {
			t.Errorf("%s: %s from %q, want the pod name (metadata.name)", c.name, sample.InstanceIDEnv, got)
		}
	}
	off := render(t, helm, "", "staticMembership=false")
	if got := instanceIDSource(t, off); got != "" {
		t.Errorf("staticMembership=false: %s still set from %q", sample.InstanceIDEnv, got)
	}
	cfg := renderedConfig(t, off)
	if strings.TrimSpace(cfg.Sample.InstanceID) != "" {
		t.Errorf("staticMembership=false: sample.instance_id = %q", cfg.Sample.InstanceID)
	}
}
