package mixin

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		p    Params
		want string // "" = valid
	}{
		{Defaults(), ""},
		{Placeholders(), ""},
		{Params{Selector: `job=~"ew-.*", namespace!="dev",`, DeploymentLabels: []string{"job"}, ClusterLabel: "k8s_cluster"}, ""},
		{Params{Selector: "", DeploymentLabels: []string{"job"}, ClusterLabel: "cluster"}, "not a list of label matchers"},
		{Params{Selector: "job=eventwatch", DeploymentLabels: []string{"job"}, ClusterLabel: "cluster"}, "not a list of label matchers"},
		{Params{Selector: `job="a"} or vector(1) or up{x="`, DeploymentLabels: []string{"job"}, ClusterLabel: "cluster"}, "not a list of label matchers"},
		{Params{Selector: `job="a"`, DeploymentLabels: nil, ClusterLabel: "cluster"}, "at least one label"},
		{Params{Selector: `job="a"`, DeploymentLabels: []string{"k8s-cluster"}, ClusterLabel: "cluster"}, `"k8s-cluster" is not a Prometheus label name`},
		{Params{Selector: `job="a"`, DeploymentLabels: []string{"job"}, ClusterLabel: ""}, `"" is not a Prometheus label name`},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tt.p, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want one with %q", tt.p, err, tt.want)
		}
	}
}

func TestSelAndBy(t *testing.T) {
	p := Params{Selector: ` job="ew",namespace="obs", `, DeploymentLabels: []string{"cluster", "job"}}
	if got, want := p.Sel("up", `x="1"`), `up{job="ew",namespace="obs", x="1"}`; got != want {
		t.Errorf("Sel = %s, want %s", got, want)
	}
	if got, want := p.By("topic"), "cluster, job, topic"; got != want {
		t.Errorf("By = %s, want %s", got, want)
	}
	if got, want := p.By(), "cluster, job"; got != want {
		t.Errorf("By() = %s, want %s", got, want)
	}
}

// TestFillMatchesDirectGeneration: an expression written with the
// placeholders and filled equals the one written with the values, as the
// chart relies on.
func TestFillMatchesDirectGeneration(t *testing.T) {
	p := Params{Selector: `job="acme-prod-eventwatch",namespace="observability"`, DeploymentLabels: []string{"cluster", "namespace", "job"}, ClusterLabel: "k8s_cluster"}
	expr := func(q Params) string {
		return "sum by (" + q.By("topic") + ") (" + q.Sel("eventwatch_x") + ") and on (" + q.ClusterLabel + ") vector(1)"
	}
	identity := func(s string) string { return s }
	if got, want := p.Fill(expr(Placeholders()), identity), expr(p); got != want {
		t.Errorf("Fill = %s\nwant   %s", got, want)
	}
	jsonEscape := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	}
	doc, _ := json.Marshal(map[string]string{"expr": expr(Placeholders())})
	var back map[string]string
	if err := json.Unmarshal([]byte(p.Fill(string(doc), jsonEscape)), &back); err != nil {
		t.Fatalf("filled JSON does not parse: %v", err)
	}
	if back["expr"] != expr(p) {
		t.Errorf("JSON fill = %s, want %s", back["expr"], expr(p))
	}
}
