// Package metrics is the catalogue of every Prometheus metric eventwatch
// exposes. Each metric is declared once, as a Spec, in the catalog_*.go file
// of the area that owns it; collectors create their vectors from the Spec on
// an injected registry, and the dashboards, alert rules and docs/metrics.md
// refer to the same Spec, so a rename breaks the build instead of a panel.
//
// Label sets are bounded by construction: topics, groups, services, rules and
// event types only, never an event id or a correlation id.
package metrics

import (
	"fmt"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// Kind is a Prometheus metric type.
type Kind string

// Metric kinds.
const (
	Counter   Kind = "counter"
	Gauge     Kind = "gauge"
	Histogram Kind = "histogram"
)

// Spec declares one metric.
type Spec struct {
	Name    string    // full name, prefix eventwatch_
	Kind    Kind      // counter, gauge or histogram
	Help    string    // help text shown on /metrics and in docs/metrics.md
	Labels  []string  // variable label names, in order
	Buckets []float64 // histogram buckets; nil means prometheus.DefBuckets
	Area    string    // owning area: audit, sampler, lag, dlq, cluster, trace, store, self
}

var catalog = map[string]Spec{}

// define adds s to the catalogue; a duplicate name is a programming error
// caught at init by the catalogue test and here.
func define(s Spec) Spec {
	if _, dup := catalog[s.Name]; dup {
		panic(fmt.Sprintf("metrics: %s defined twice", s.Name)) //nolint:forbidigo // a programming error caught at init, never input
	}
	catalog[s.Name] = s
	return s
}

// All returns every declared metric, sorted by name.
func All() []Spec {
	out := make([]Spec, 0, len(catalog))
	for _, s := range catalog {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Desc returns the Prometheus descriptor of s, for custom collectors that
// emit const metrics from a snapshot.
func (s Spec) Desc() *prometheus.Desc {
	return prometheus.NewDesc(s.Name, s.Help, s.Labels, nil)
}

// NewCounterVec creates s as a counter vector and registers it on reg.
func (s Spec) NewCounterVec(reg prometheus.Registerer) *prometheus.CounterVec {
	s.mustBe(Counter)
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: s.Name, Help: s.Help}, s.Labels)
	reg.MustRegister(v)
	return v
}

// NewGaugeVec creates s as a gauge vector and registers it on reg.
func (s Spec) NewGaugeVec(reg prometheus.Registerer) *prometheus.GaugeVec {
	s.mustBe(Gauge)
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: s.Name, Help: s.Help}, s.Labels)
	reg.MustRegister(v)
	return v
}

// NewHistogramVec creates s as a histogram vector and registers it on reg.
func (s Spec) NewHistogramVec(reg prometheus.Registerer) *prometheus.HistogramVec {
	s.mustBe(Histogram)
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: s.Name, Help: s.Help, Buckets: s.Buckets}, s.Labels)
	reg.MustRegister(v)
	return v
}

func (s Spec) mustBe(k Kind) {
	if s.Kind != k {
		panic(fmt.Sprintf("metrics: %s is a %s, not a %s", s.Name, s.Kind, k)) //nolint:forbidigo // a programming error, never input
	}
}
