package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/mixin"
)

// Options are the generation-time settings of the dashboards.
type Options struct {
	mixin.Params                // selector (variable queries) and cluster label of the variables
	ComplianceObjective float64 // compliance ratio drawn as the green threshold (default 0.95)
}

// DefaultOptions returns the options `eventwatch generate` uses without flags.
func DefaultOptions() Options {
	return Options{Params: mixin.Defaults(), ComplianceObjective: 0.95}
}

// Boards returns every dashboard definition, in file-name order, with the
// mixin parameters of o filled in.
func Boards(o Options) []Board {
	boards := []Board{compliance(o), flows(), health(), lagDLQ()}
	for i := range boards {
		boards[i] = fill(withDeploymentVariables(boards[i]), o.Params)
	}
	return boards
}

// deploymentMatchers are in every selector of every query: the cluster,
// job and instance variables. The boards are written with the cluster
// label and the selector as mixin tokens; fill replaces them.
var deploymentMatchers = []string{mixin.ClusterToken + `=~"$cluster"`, `job=~"$job"`, `instance=~"$instance"`}

// withDeploymentVariables puts the cluster, job and instance variables
// (the shape grafana's dashboard-linter requires) before b's own.
func withDeploymentVariables(b Board) Board {
	info := metrics.BuildInfo
	std := []Variable{
		{Name: "cluster", Title: "Cluster", Spec: info, Label: mixin.ClusterToken, Single: true,
			Help: "the cluster (Prometheus or Kafka cluster) whose eventwatch deployment is shown", Matchers: []string{mixin.SelectorToken}},
		{Name: "job", Title: "Job", Spec: info, Label: "job", AllValue: ".+",
			Help: "eventwatch scrape jobs (deployments)", Matchers: []string{mixin.SelectorToken, deploymentMatchers[0]}},
		{Name: "instance", Title: "Instance", Spec: info, Label: "instance", AllValue: ".+",
			Help: "eventwatch replicas", Matchers: []string{mixin.SelectorToken, deploymentMatchers[0], deploymentMatchers[1]}},
	}
	b.Variables = append(std, b.Variables...)
	return b
}

// fill replaces the mixin tokens in every query, variable and text of b.
func fill(b Board, p mixin.Params) Board {
	f := func(s string) string { return p.Fill(s, func(s string) string { return s }) }
	vars := make([]Variable, len(b.Variables))
	for i, v := range b.Variables {
		v.Label = f(v.Label)
		ms := v.Matchers
		if ms == nil {
			ms = deploymentMatchers
		}
		v.Matchers = make([]string, len(ms))
		for j, m := range ms {
			v.Matchers[j] = f(m)
		}
		vars[i] = v
	}
	b.Variables = vars
	rows := make([]Row, len(b.Rows))
	for i, r := range b.Rows {
		panels := make([]Panel, len(r.Panels))
		for j, pn := range r.Panels {
			pn.Description = f(pn.Description)
			qs := make([]Query, len(pn.Queries))
			for k, q := range pn.Queries {
				q.Expr = f(q.Expr)
				qs[k] = q
			}
			pn.Queries = qs
			panels[j] = pn
		}
		r.Panels = panels
		rows[i] = r
	}
	b.Rows = rows
	return b
}

// Write renders every board to dir/<uid>.json (creating dir), with a
// trailing newline, and returns the paths written.
func Write(dir string, o Options) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create dashboards dir: %w", err)
	}
	var paths []string
	for _, b := range Boards(o) {
		data, err := Render(b)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, b.FileName())
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("write dashboard %s: %w", b.UID, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// Render returns b as indented Grafana dashboard JSON.
func Render(b Board) ([]byte, error) {
	d, err := Build(b)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode dashboard %s: %w", b.UID, err)
	}
	return buf.Bytes(), nil
}

// Label matchers bound to the template variables.
const (
	byTopic   = `topic=~"$topic"`
	bySource  = `source_service=~"$service"`
	byGroup   = `group=~"$group"`
	byService = `service=~"$service"`
)

// sel renders s's series selector with matchers.
func sel(s metrics.Spec, matchers ...string) string {
	return series(s, "", matchers...)
}

// series renders the selector of one of a histogram's series (_bucket,
// _count, _sum) with the deployment matchers and matchers.
func series(s metrics.Spec, suffix string, matchers ...string) string {
	return s.Name + suffix + "{" + strings.Join(append(slices.Clone(deploymentMatchers), matchers...), ",") + "}"
}

// sumRate is `sum by (by) (rate(selector[window]))`; by may be empty.
func sumRate(by, selector, window string) string {
	return sumOf(by, "rate("+selector+"["+window+"])")
}

// sumIncrease is `sum by (by) (increase(selector[window]))`.
func sumIncrease(by, selector, window string) string {
	return sumOf(by, "increase("+selector+"["+window+"])")
}

// sumOf is `sum(inner)`, or `sum by (job, by) (inner)`: a breakdown keeps
// the job, so two deployments' topics, groups or services of the same name
// stay apart when the job variable selects both.
func sumOf(by, inner string) string {
	if by == "" {
		return "sum(" + inner + ")"
	}
	return "sum by (job, " + by + ") (" + inner + ")"
}

// quantile is a histogram quantile of s over window, by the given labels.
func quantile(q string, s metrics.Spec, by, window string, matchers ...string) string {
	return "histogram_quantile(" + q + ", " + sumRate(by+", le", series(s, "_bucket", matchers...), window) + ")"
}

func topicVar() Variable {
	return Variable{Name: "topic", Spec: metrics.RecordsChecked, Label: "topic", Help: "audited Kafka topics"}
}

func ratioSteps(objective float64) []Step {
	return []Step{{Color: "red"}, {Value: objective - 0.05, Color: "orange"}, {Value: objective, Color: "green"}}
}

func countSteps(warn float64) []Step {
	return []Step{{Color: "green"}, {Value: warn, Color: "red"}}
}
