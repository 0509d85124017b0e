package helmtest

import (
	"maps"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// service is the part of a rendered Service the workload tests read.
type service struct {
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		ClusterIP string            `yaml:"clusterIP"`
		Selector  map[string]string `yaml:"selector"`
	} `yaml:"spec"`
}

func renderedServices(t *testing.T, docs []string) map[string]service {
	t.Helper()
	out := map[string]service{}
	for _, d := range docs {
		if decode(t, d).Kind != "Service" {
			continue
		}
		var s service
		if err := yaml.Unmarshal([]byte(d), &s); err != nil {
			t.Fatal(err)
		}
		out[s.Metadata.Name] = s
	}
	return out
}

// dataVolume returns the claim the pod's data volume comes from, "" for
// none, and whether the pod template declares a data volume at all.
func dataVolume(pm podMounts) (claim string, declared bool) {
	for _, v := range pm.Spec.Template.Spec.Volumes {
		if v.Name != "data" {
			continue
		}
		if v.PersistentVolumeClaim != nil {
			return v.PersistentVolumeClaim.ClaimName, true
		}
		return "", true
	}
	return "", false
}

// TestDefaultIsStatefulSet: by default eventwatch runs as a StatefulSet,
// so a recreated pod keeps its name and with it its static group member:
// a headless Service as serviceName, Parallel pod management, rolling
// updates, the instance id from the pod name, the SQLite store on a
// volumeClaimTemplate (no shared claim), and the Service, PDB and
// ServiceMonitor selecting its pods (the ServiceMonitor not the headless
// Service).
func TestDefaultIsStatefulSet(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	docs := render(t, helm, "", "serviceMonitor.enabled=true")
	if n := len(find(t, docs, "Deployment")); n != 0 {
		t.Errorf("%d Deployments rendered by default, want none", n)
	}
	if n := len(find(t, docs, "PersistentVolumeClaim")); n != 0 {
		t.Errorf("%d PersistentVolumeClaims rendered by default, want the StatefulSet's volumeClaimTemplate", n)
	}
	sts := renderedDeployment(t, docs)
	if sts.Kind != "StatefulSet" {
		t.Fatalf("workload is a %s, want a StatefulSet", sts.Kind)
	}
	if sts.Spec.PodManagementPolicy != "Parallel" || sts.Spec.UpdateStrategy.Type != "RollingUpdate" {
		t.Errorf("podManagementPolicy %q updateStrategy %q, want Parallel and RollingUpdate", sts.Spec.PodManagementPolicy, sts.Spec.UpdateStrategy.Type)
	}
	podLabels := sts.Spec.Template.Metadata.Labels
	if !matches(podLabels, sts.Spec.Selector.MatchLabels) {
		t.Errorf("selector %v does not select the pod labels %v", sts.Spec.Selector.MatchLabels, podLabels)
	}

	svcs := renderedServices(t, docs)
	headless, ok := svcs[sts.Spec.ServiceName]
	if !ok {
		t.Fatalf("serviceName %q is not a rendered Service (have %v)", sts.Spec.ServiceName, slices.Sorted(maps.Keys(svcs)))
	}
	if headless.Spec.ClusterIP != "None" {
		t.Errorf("Service %s has clusterIP %q, want None (headless)", sts.Spec.ServiceName, headless.Spec.ClusterIP)
	}
	for name, s := range svcs {
		if !matches(podLabels, s.Spec.Selector) {
			t.Errorf("Service %s selector %v does not select the pods %v", name, s.Spec.Selector, podLabels)
		}
	}
	if job, _ := scrapeLabels(t, docs); job != release+"-eventwatch" {
		t.Errorf("the ServiceMonitor scrapes through %q, want %s-eventwatch", job, release)
	}
	var pdb struct {
		Spec struct {
			Selector labelSelector `yaml:"selector"`
		} `yaml:"spec"`
	}
	decodeKind(t, docs, "PodDisruptionBudget", &pdb)
	if !pdb.Spec.Selector.selects(podLabels) {
		t.Errorf("PodDisruptionBudget selector %+v does not select the pods %v", pdb.Spec.Selector, podLabels)
	}

	if got := instanceIDSource(t, docs); got != "metadata.name" {
		t.Errorf("EVENTWATCH_INSTANCE_ID from %q, want metadata.name (the stable pod name)", got)
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Metadata.Name != "data" {
		t.Errorf("volumeClaimTemplates %+v, want one named data", sts.Spec.VolumeClaimTemplates)
	}
	pm := renderedMounts(t, docs)
	if _, declared := dataVolume(pm); declared {
		t.Error("the pod template declares a data volume, which would hide the volumeClaimTemplate")
	}
	if !mountedAt(pm, "/var/lib/eventwatch") {
		t.Error("the data dir is not mounted")
	}

	kv := bins.Require(t, kvHint, "kubectl-validate")
	if out, err := kubectlValidate(t, kv, writeDocs(t, docs)); err != nil {
		t.Fatalf("kubectl-validate: %v\n%s", err, out)
	}
}

// TestStatefulSetStores: with PostgreSQL or an existing claim the
// StatefulSet has no volumeClaimTemplate; the data volume is an emptyDir or
// that claim.
func TestStatefulSetStores(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	kv := bins.Require(t, kvHint, "kubectl-validate")
	for _, tc := range []struct {
		name, file string
		set        []string
		claim      string
	}{
		{"postgres", "ci/values-postgres-ha.yaml", nil, ""},
		{"existing claim", "", []string{"store.persistence.existingClaim=eventwatch-data"}, "eventwatch-data"},
		{"no persistence", "", []string{"store.persistence.enabled=false"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := render(t, helm, tc.file, tc.set...)
			sts := renderedDeployment(t, docs)
			if sts.Kind != "StatefulSet" || len(sts.Spec.VolumeClaimTemplates) != 0 {
				t.Errorf("%s with volumeClaimTemplates %+v, want a StatefulSet without", sts.Kind, sts.Spec.VolumeClaimTemplates)
			}
			if n := len(find(t, docs, "PersistentVolumeClaim")); n != 0 {
				t.Errorf("%d PersistentVolumeClaims rendered, want none", n)
			}
			if claim, declared := dataVolume(renderedMounts(t, docs)); !declared || claim != tc.claim {
				t.Errorf("data volume declared=%v from claim %q, want claim %q", declared, claim, tc.claim)
			}
			if out, err := kubectlValidate(t, kv, writeDocs(t, docs)); err != nil {
				t.Fatalf("kubectl-validate: %v\n%s", err, out)
			}
		})
	}
}

// TestWorkloadDeployment: workload=Deployment renders the Deployment as
// before: no StatefulSet, no headless Service, the SQLite store on the
// chart's claim, Recreate, the instance id from the pod name.
func TestWorkloadDeployment(t *testing.T) {
	helm := bins.Require(t, helmHint, "helm")
	docs := render(t, helm, "", "workload=Deployment", "serviceMonitor.enabled=true")
	if n := len(find(t, docs, "StatefulSet")); n != 0 {
		t.Errorf("%d StatefulSets rendered with workload=Deployment", n)
	}
	dep := renderedDeployment(t, docs)
	if dep.Kind != "Deployment" || dep.Spec.Strategy.Type != "Recreate" {
		t.Errorf("%s with strategy %q, want a Deployment with Recreate (SQLite)", dep.Kind, dep.Spec.Strategy.Type)
	}
	svcs := renderedServices(t, docs)
	if _, ok := svcs[release+"-eventwatch"]; len(svcs) != 1 || !ok {
		t.Errorf("Services %v, want only %s-eventwatch", slices.Sorted(maps.Keys(svcs)), release)
	}
	pvcs := find(t, docs, "PersistentVolumeClaim")
	if len(pvcs) != 1 || pvcs[0].Metadata.Name != release+"-eventwatch" {
		t.Fatalf("%d PersistentVolumeClaims, want %s-eventwatch", len(pvcs), release)
	}
	if claim, _ := dataVolume(renderedMounts(t, docs)); claim != release+"-eventwatch" {
		t.Errorf("data volume from claim %q, want %s-eventwatch", claim, release)
	}
	if got := instanceIDSource(t, docs); got != "metadata.name" {
		t.Errorf("EVENTWATCH_INSTANCE_ID from %q, want metadata.name", got)
	}
	if job, _ := scrapeLabels(t, docs); job != release+"-eventwatch" {
		t.Errorf("the ServiceMonitor scrapes through %q, want %s-eventwatch", job, release)
	}
	kv := bins.Require(t, kvHint, "kubectl-validate")
	if out, err := kubectlValidate(t, kv, writeDocs(t, docs)); err != nil {
		t.Fatalf("kubectl-validate: %v\n%s", err, out)
	}
}
