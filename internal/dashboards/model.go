// Package dashboards generates eventwatch's Grafana dashboards as code with
// the Grafana Foundation SDK; the JSON under dashboards/ is its output and is
// never edited by hand.
//
// The model is small on purpose: a Board is a list of Rows of Panels, a
// Panel holds PromQL Queries, and every metric name in a query comes from a
// metrics.Spec, so a renamed metric breaks the build instead of a panel.
// Panel ids and query refIds are fixed in the definitions (refIds follow
// query order: A, B, ...), and the layout is computed from panel widths, so
// the same code always renders the same bytes. Boards() returns the
// definitions — the tests and the e2e suite read every query from there —
// and Write renders them to files.
//
// Each board has a Prometheus datasource variable and the topic, group and
// service variables its queries filter on (multi-select, "All" = `.*`).
package dashboards

import (
	"fmt"
	"strings"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Kind is the visualisation of a panel.
type Kind int

// Panel kinds.
const (
	TimeSeries Kind = iota // a graph over time
	Stat                   // one big number per series
	Table                  // an instant query rendered as rows
	BarGauge               // horizontal bars, one per series
)

// Board is one dashboard.
type Board struct {
	UID         string     // stable Grafana uid, also the file name (UID.json)
	Title       string     // dashboard title
	Description string     // shown under the title
	Tags        []string   // Grafana tags; "eventwatch" is always added
	Variables   []Variable // template variables the queries filter on
	Rows        []Row      // rows in display order
}

// Variable is a template variable whose values are the values of Label on
// the series of Spec that match Matchers.
type Variable struct {
	Name     string       // variable name, used as $Name in queries
	Title    string       // label shown in Grafana; Name when empty
	Spec     metrics.Spec // metric carrying the label
	Label    string       // label whose values are offered
	Help     string       // what the values are
	Matchers []string     // matchers of the values query; the deployment matchers when nil
	Single   bool         // single-select without an "All" option
	AllValue string       // regex "All" stands for; ".*" when empty
}

// query is the variable's values query, label_values(spec{matchers}, label).
func (v Variable) query() string {
	ms := v.Matchers
	if ms == nil {
		ms = deploymentMatchers
	}
	return fmt.Sprintf("label_values(%s{%s}, %s)", v.Spec.Name, strings.Join(ms, ","), v.Label)
}

// Row is a titled row of panels.
type Row struct {
	ID     uint32  // stable panel id of the row itself
	Title  string  // row title
	Panels []Panel // panels, laid out left to right, wrapping at 24 columns
}

// Panel is one visualisation.
type Panel struct {
	ID          uint32   // stable panel id, unique within the board
	Title       string   // panel title
	Description string   // tooltip text: what the panel shows and how to read it
	Kind        Kind     // visualisation
	Unit        string   // Grafana unit id (percentunit, s, short, bytes, ...)
	Width       uint32   // grid columns (of 24); 0 means 12
	Height      uint32   // grid rows; 0 means 8
	Queries     []Query  // PromQL targets; refIds A, B, ... in this order
	Thresholds  []Step   // colour steps; nil means green only
	Mappings    []Mapped // value-to-text mappings (status codes)
	Min, Max    *float64 // axis or gauge bounds
}

// Step is one threshold: from Value upwards the panel shows Color. The first
// step's Value is ignored (it starts at -Inf).
type Step struct {
	Value float64
	Color string
}

// Mapped shows a numeric value as text in a colour.
type Mapped struct {
	Value string
	Text  string
	Color string
}

// Query is one PromQL target.
type Query struct {
	Expr    string // PromQL with Grafana variables ($topic, $__rate_interval, ...)
	Legend  string // legend format, e.g. {{topic}}
	Instant bool   // instant query (tables, bar gauges, stats of a current value)
}

// RefID is the refId of the i-th query of a panel: A, B, ..., Z, AA, AB, ...
func RefID(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return RefID(i/26-1) + RefID(i%26)
}

// Expand replaces Grafana's template variables in a query with values that
// make it a plain PromQL expression: every variable selects what its "All"
// selects (the cluster variable: any cluster, or none) and the interval
// variables become rateWindow. The e2e suite and promtool checks run the
// expanded form.
func Expand(expr, rateWindow, rangeWindow string) string {
	return strings.NewReplacer(
		"$__rate_interval", rateWindow,
		"$__interval", rateWindow,
		"$__range", rangeWindow,
		"$cluster", ".*",
		"$job", ".+",
		"$instance", ".+",
		"$topic", ".*",
		"$group", ".*",
		"$service", ".*",
	).Replace(expr)
}

// EachQuery calls fn for every query of every panel of b, in display order.
func (b Board) EachQuery(fn func(p Panel, refID string, q Query)) {
	for _, r := range b.Rows {
		for _, p := range r.Panels {
			for i, q := range p.Queries {
				fn(p, RefID(i), q)
			}
		}
	}
}

// FileName is the name of b's JSON file under dashboards/.
func (b Board) FileName() string { return b.UID + ".json" }

func (p Panel) size() (w, h uint32) {
	w, h = p.Width, p.Height
	if w == 0 {
		w = 12
	}
	if h == 0 {
		h = 8
	}
	return w, h
}

func (k Kind) String() string {
	switch k {
	case TimeSeries:
		return "timeseries"
	case Stat:
		return "stat"
	case Table:
		return "table"
	case BarGauge:
		return "bargauge"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

func ptr[T any](v T) *T { return &v }
