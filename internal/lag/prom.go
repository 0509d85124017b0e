package lag

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

func newCounterVec(s metrics.Spec) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: s.Name, Help: s.Help}, s.Labels)
}

func newGaugeVec(s metrics.Spec) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: s.Name, Help: s.Help}, s.Labels)
}

// sharedVec registers the vector of s on reg, or returns the one another
// component already registered (the self metrics are shared by every
// collector, told apart by their collector or request label).
func sharedVec[V prometheus.Collector](reg prometheus.Registerer, s metrics.Spec, mk func(metrics.Spec) V) (V, error) {
	v := mk(s)
	err := reg.Register(v)
	if err == nil {
		return v, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(V); ok {
			return existing, nil
		}
	}
	var zero V
	return zero, fmt.Errorf("register %s: %w", s.Name, err)
}

// snapshotNames claims the names of the snapshot families on a registry: it
// describes them and collects nothing, because MetricsHandler writes them
// from the encoded snapshot. A second registration of any of them fails.
type snapshotNames struct{}

var snapshotDescs = func() []*prometheus.Desc {
	out := make([]*prometheus.Desc, len(snapshotFamilies))
	for i, s := range snapshotFamilies {
		out[i] = s.Desc()
	}
	return out
}()

// Describe sends the descriptors of the snapshot families.
func (snapshotNames) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range snapshotDescs {
		ch <- d
	}
}

// Collect sends nothing: the snapshot families are served as encoded bytes.
func (snapshotNames) Collect(chan<- prometheus.Metric) {}
