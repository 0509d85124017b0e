package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/eventwatch/eventwatch/internal/mixin"
)

// This file lints the rendered dashboard JSON with the rules of grafana's
// dashboard-linter (lint/rule_*.go), reimplemented here because the
// linter cannot be installed on our build machines. Each rule keeps the
// linter's name and its checks; where the linter only checks some panel
// types, eventwatch's rule checks every panel.

// lintBoard is the part of a dashboard JSON the rules read, as the linter
// reads it from the file.
type lintBoard struct {
	Title      string `json:"title"`
	Editable   bool   `json:"editable"`
	Templating struct {
		List []lintTemplate `json:"list"`
	} `json:"templating"`
	Panels []lintPanel `json:"panels"`
}

type lintTemplate struct {
	Name       string          `json:"name"`
	Label      string          `json:"label"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *lintDatasource `json:"datasource"`
	Multi      bool            `json:"multi"`
	AllValue   string          `json:"allValue"`
	Refresh    int             `json:"refresh"`
}

type lintDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type lintPanel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *lintDatasource `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr       string          `json:"expr"`
		RefID      string          `json:"refId"`
		Datasource *lintDatasource `json:"datasource"`
	} `json:"targets"`
}

// lintRule checks one dashboard and returns its findings.
type lintRule struct {
	name  string
	check func(d lintBoard) []string
}

var lintRules = []lintRule{
	{"template-datasource-rule", ruleTemplateDatasource},
	{"template-job-rule", func(d lintBoard) []string { return checkTemplate(d, "job") }},
	{"template-instance-rule", func(d lintBoard) []string { return checkTemplate(d, "instance") }},
	{"template-cluster-rule", ruleTemplateCluster},
	{"template-label-promql-rule", ruleTemplateLabelPromQL},
	{"template-on-time-change-reload-rule", ruleTemplateReload},
	{"uneditable-dashboard", func(d lintBoard) []string {
		return when(d.Editable, "is editable, it should be set to 'editable: false'")
	}},
	{"panel-datasource-rule", eachPanel(rulePanelDatasource)},
	{"panel-units-rule", eachPanel(rulePanelUnits)},
	{"panel-title-description-rule", eachPanel(rulePanelTitleDescription)},
	{"target-promql-rule", eachTarget(ruleTargetPromQL)},
	{"target-job-rule", eachTarget(requiredMatcher("job"))},
	{"target-instance-rule", eachTarget(requiredMatcher("instance"))},
	{"target-cluster-rule", eachTarget(requiredMatcher("cluster"))},
	{"target-rate-interval-rule", eachTarget(ruleTargetRateInterval)},
	{"target-counter-agg-rule", eachTarget(ruleTargetCounterAgg)},
	{"target-by-job-rule", eachTarget(ruleTargetByJob)},
}

// TestDashboardsPassTheLinterRules renders every board and applies every
// rule to the JSON.
func TestDashboardsPassTheLinterRules(t *testing.T) {
	for _, b := range Boards(DefaultOptions()) {
		d := renderForLint(t, b)
		for _, r := range lintRules {
			for _, f := range r.check(d) {
				t.Errorf("%s: %s: %s", b.UID, r.name, f)
			}
		}
	}
}

// TestLinterRulesCatchBrokenBoards proves each rule can fail, on boards
// broken the way the issue found the old ones (editable, no variables, a
// panel without a unit, a query without the job matcher).
func TestLinterRulesCatchBrokenBoards(t *testing.T) {
	b := Boards(DefaultOptions())[2] // health
	good := renderForLint(t, b)
	broken := []struct {
		rule   string
		mutate func(d *lintBoard)
	}{
		{"uneditable-dashboard", func(d *lintBoard) { d.Editable = true }},
		{"template-job-rule", func(d *lintBoard) { d.Templating.List = d.Templating.List[:2] }},
		{"template-instance-rule", func(d *lintBoard) { d.Templating.List[3].AllValue = ".*" }},
		{"template-datasource-rule", func(d *lintBoard) { d.Templating.List[0].Type = "query" }},
		{"panel-units-rule", func(d *lintBoard) { d.Panels[1].FieldConfig.Defaults.Unit = "" }},
		{"panel-datasource-rule", func(d *lintBoard) { d.Panels[1].Datasource.UID = "prometheus" }},
		{"panel-title-description-rule", func(d *lintBoard) { d.Panels[1].Description = "" }},
		{"target-job-rule", func(d *lintBoard) {
			d.Panels[2].Targets[0].Expr = strings.Replace(d.Panels[2].Targets[0].Expr, `job=~"$job",`, "", 1)
		}},
		{"target-promql-rule", func(d *lintBoard) { d.Panels[2].Targets[0].Expr += ")" }},
		{"target-rate-interval-rule", func(d *lintBoard) {
			d.Panels[15].Targets[0].Expr = `sum(rate(x{job=~"$job",instance=~"$instance",cluster=~"$cluster"}[5m]))`
		}},
		{"target-counter-agg-rule", func(d *lintBoard) {
			d.Panels[15].Targets[0].Expr = `sum(x_total{job=~"$job",instance=~"$instance",cluster=~"$cluster"})`
		}},
	}
	for _, tc := range broken {
		d := cloneLint(t, good)
		tc.mutate(&d)
		var found []string
		for _, r := range lintRules {
			if r.name == tc.rule {
				found = r.check(d)
			}
		}
		if len(found) == 0 {
			t.Errorf("%s found nothing on a board broken for it", tc.rule)
		}
	}
}

func renderForLint(t *testing.T, b Board) lintBoard {
	t.Helper()
	data, err := Render(b)
	if err != nil {
		t.Fatal(err)
	}
	var d lintBoard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func cloneLint(t *testing.T, d lintBoard) lintBoard {
	t.Helper()
	data, _ := json.Marshal(d)
	var out lintBoard
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func when(bad bool, msg string) []string {
	if bad {
		return []string{msg}
	}
	return nil
}

func template(d lintBoard, name string) *lintTemplate {
	for i := range d.Templating.List {
		if d.Templating.List[i].Name == name {
			return &d.Templating.List[i]
		}
	}
	return nil
}

func ruleTemplateDatasource(d lintBoard) []string {
	var out []string
	n := 0
	for _, v := range d.Templating.List {
		if v.Type != "datasource" {
			continue
		}
		n++
		var q string
		_ = json.Unmarshal(v.Query, &q)
		out = append(out, when(q != "prometheus", fmt.Sprintf("data source variable %s queries %q, not prometheus", v.Name, q))...)
		out = append(out, when(v.Name != "datasource" && v.Name != "prometheus_datasource", "templated data source variable named '"+v.Name+"'")...)
		out = append(out, when(v.Label != "Data source" && v.Label != "Prometheus data source", "templated data source variable labeled '"+v.Label+"'")...)
	}
	return append(out, when(n == 0, "does not have a templated data source")...)
}

// checkTemplate is the linter's job/instance template check: a Prometheus
// query variable on $datasource, labelled Title(name), multi-select, with
// allValue .+.
func checkTemplate(d lintBoard, name string) []string {
	v := template(d, name)
	if v == nil {
		return []string{"is missing the " + name + " template"}
	}
	var out []string
	if v.Datasource == nil || (v.Datasource.UID != "$datasource" && v.Datasource.UID != "${datasource}") {
		out = append(out, name+" template should use datasource '$datasource'")
	}
	title := strings.ToUpper(name[:1]) + name[1:]
	out = append(out, when(v.Type != "query", name+" template should be a Prometheus query, is "+v.Type)...)
	out = append(out, when(v.Label != title, name+" template should be labeled '"+title+"', is '"+v.Label+"'")...)
	out = append(out, when(!v.Multi, name+" template should be a multi select")...)
	return append(out, when(v.AllValue != ".+", name+" template allValue should be '.+', is '"+v.AllValue+"'")...)
}

// ruleTemplateCluster: eventwatch's own rule, the cluster variable the
// linter does not know: a query variable on $datasource.
func ruleTemplateCluster(d lintBoard) []string {
	v := template(d, "cluster")
	if v == nil {
		return []string{"is missing the cluster template"}
	}
	return when(v.Type != "query" || v.Datasource == nil || v.Datasource.UID != "${datasource}",
		"cluster template should be a Prometheus query on $datasource")
}

var templatedLabelRE = regexp.MustCompile(`^([a-z_]+)\((.+)\)$`)

func ruleTemplateLabelPromQL(d lintBoard) []string {
	var out []string
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		_ = json.Unmarshal(v.Query, &q)
		if strings.Contains(q, mixin.SelectorToken) || strings.Contains(q, mixin.ClusterToken) {
			out = append(out, fmt.Sprintf("template %s: mixin token left in %q", v.Name, q))
		}
		m := templatedLabelRE.FindStringSubmatch(q)
		if m == nil || !slices.Contains([]string{"label_names", "label_values", "metrics", "query_result"}, m[1]) {
			out = append(out, fmt.Sprintf("template %s: invalid templated label %q", v.Name, q))
			continue
		}
		arg := m[2]
		if m[1] == "label_values" {
			arg = arg[:strings.LastIndex(arg, ",")]
		}
		if _, err := parsePromQL(arg); err != nil {
			out = append(out, fmt.Sprintf("template %s: %v", v.Name, err))
		}
	}
	return out
}

func ruleTemplateReload(d lintBoard) []string {
	var out []string
	for _, v := range d.Templating.List {
		out = append(out, when(v.Type == "query" && v.Refresh != 2,
			fmt.Sprintf("variable %s should refresh on time range change (2), is %d", v.Name, v.Refresh))...)
	}
	return out
}

func eachPanel(fn func(p lintPanel) []string) func(d lintBoard) []string {
	return func(d lintBoard) []string {
		var out []string
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			for _, f := range fn(p) {
				out = append(out, fmt.Sprintf("panel %d %q %s", p.ID, p.Title, f))
			}
		}
		return out
	}
}

func rulePanelDatasource(p lintPanel) []string {
	return when(p.Datasource == nil || (p.Datasource.UID != "${datasource}" && p.Datasource.UID != "$datasource"),
		"does not use the templated datasource")
}

// validUnits are the Grafana unit ids eventwatch's panels may use (a
// subset of the linter's list: the ones that fit its metrics).
var validUnits = []string{"none", "short", "percent", "percentunit", "bytes", "decbytes", "s", "ms", "ops", "opm", "reqps", "bool"}

func rulePanelUnits(p lintPanel) []string {
	return when(!slices.Contains(validUnits, p.FieldConfig.Defaults.Unit),
		fmt.Sprintf("has no or invalid units defined: '%s'", p.FieldConfig.Defaults.Unit))
}

func rulePanelTitleDescription(p lintPanel) []string {
	return when(p.Title == "" || p.Description == "", "has missing title or description")
}

func eachTarget(fn func(expr string) []string) func(d lintBoard) []string {
	return func(d lintBoard) []string {
		var out []string
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				for _, f := range fn(tg.Expr) {
					out = append(out, fmt.Sprintf("panel %d %q %s: %s", p.ID, p.Title, tg.RefID, f))
				}
			}
		}
		return out
	}
}

// lintRateInterval is the sample value the linter substitutes for
// $__rate_interval, recognised again after parsing.
const lintRateInterval = "8869990787ms"

// parsePromQL substitutes the Grafana variables outside double-quoted
// strings (as the linter does: `job=~"$job"` keeps its value "$job") and
// parses the result with the Prometheus parser.
func parsePromQL(expr string) (parser.Expr, error) {
	parts := strings.Split(expr, `"`)
	for i := 0; i < len(parts); i += 2 {
		parts[i] = strings.NewReplacer("$__rate_interval", lintRateInterval, "$__interval", "4867856611ms",
			"$__range", "6069770749ms").Replace(parts[i])
	}
	return parser.ParseExpr(strings.Join(parts, `"`))
}

func ruleTargetPromQL(expr string) []string {
	if strings.TrimSpace(expr) == "" {
		return []string{"empty query"}
	}
	if strings.Contains(expr, mixin.SelectorToken) || strings.Contains(expr, mixin.ClusterToken) {
		return []string{"mixin token left in the query: " + expr}
	}
	_, err := parsePromQL(expr)
	return when(err != nil, fmt.Sprintf("invalid PromQL query %q: %v", expr, err))
}

// requiredMatcher is the linter's target-job/instance rule: every
// selector of the query has name=~"$name".
func requiredMatcher(name string) func(expr string) []string {
	return func(expr string) []string {
		node, err := parsePromQL(expr)
		if err != nil {
			return nil // target-promql-rule reports it
		}
		var out []string
		for _, sel := range parser.ExtractSelectors(node) {
			ok := slices.ContainsFunc(sel, func(m *labels.Matcher) bool {
				return m.Name == name && m.Type == labels.MatchRegexp && m.Value == "$"+name
			})
			out = append(out, when(!ok, fmt.Sprintf("a selector of %q lacks %s=~\"$%s\"", expr, name, name))...)
		}
		return out
	}
}

type inspector func(parser.Node, []parser.Node) error

func (f inspector) Visit(node parser.Node, path []parser.Node) (parser.Visitor, error) {
	if err := f(node, path); err != nil {
		return nil, err
	}
	return f, nil
}

// ruleTargetRateInterval: rate and irate use $__rate_interval.
func ruleTargetRateInterval(expr string) []string {
	node, err := parsePromQL(expr)
	if err != nil {
		return nil
	}
	err = parser.Walk(inspector(func(n parser.Node, parents []parser.Node) error {
		ms, ok := n.(*parser.MatrixSelector)
		if !ok || len(parents) == 0 || ms.Range == 8869990787*time.Millisecond {
			return nil
		}
		if call, ok := parents[len(parents)-1].(*parser.Call); ok && (call.Func.Name == "rate" || call.Func.Name == "irate") {
			return fmt.Errorf("%s should use $__rate_interval", call)
		}
		return nil
	}), node, nil)
	return when(err != nil, fmt.Sprint(err))
}

// ruleTargetCounterAgg: a counter (…_total) is only read through rate,
// irate or increase.
func ruleTargetCounterAgg(expr string) []string {
	node, err := parsePromQL(expr)
	if err != nil {
		return nil
	}
	err = parser.Walk(inspector(func(n parser.Node, parents []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || !strings.HasSuffix(vs.Name, "_total") {
			return nil
		}
		if len(parents) >= 2 {
			if _, ok := parents[len(parents)-1].(*parser.MatrixSelector); ok {
				if call, ok := parents[len(parents)-2].(*parser.Call); ok && slices.Contains([]string{"rate", "irate", "increase"}, call.Func.Name) {
					return nil
				}
			}
		}
		return fmt.Errorf("counter %s is not aggregated with rate, irate or increase", vs.Name)
	}), node, nil)
	return when(err != nil, fmt.Sprint(err))
}

// ruleTargetByJob: eventwatch's own rule, not the linter's. An aggregation
// that breaks down by labels keeps job, so two deployments selected
// together never merge a topic, group or service of the same name.
func ruleTargetByJob(expr string) []string {
	node, err := parsePromQL(expr)
	if err != nil {
		return nil
	}
	err = parser.Walk(inspector(func(n parser.Node, _ []parser.Node) error {
		if agg, ok := n.(*parser.AggregateExpr); ok && !agg.Without && len(agg.Grouping) > 0 && !slices.Contains(agg.Grouping, "job") {
			return fmt.Errorf("%s by (%s) drops job", agg.Op, strings.Join(agg.Grouping, ", "))
		}
		return nil
	}), node, nil)
	return when(err != nil, fmt.Sprint(err))
}
