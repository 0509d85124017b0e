package lag_test

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/metrics"
)

// legacyCollector is the /metrics path before issue 14, kept for the
// benchmark's side-by-side figures only: a prometheus.Collector that builds
// one const metric per series from the snapshot on every scrape.
type legacyCollector struct {
	snap       func() *lag.Snapshot
	partitions bool
}

var legacySpecs = []metrics.Spec{
	metrics.GroupLagRecords, metrics.GroupPartitionLagRecords, metrics.GroupLagSeconds, metrics.GroupPartitionLagSeconds,
	metrics.GroupStatus, metrics.GroupMembers, metrics.GroupInfo, metrics.LagObjective, metrics.LagObjectiveBreach,
	metrics.DLQDepth, metrics.DLQRecords, metrics.DLQNewRecords, metrics.DLQRetention, metrics.ClusterBrokers, metrics.ClusterRuleViolations,
}

var legacyDescs = func() map[string]*prometheus.Desc {
	out := map[string]*prometheus.Desc{}
	for _, s := range legacySpecs {
		out[s.Name] = s.Desc()
	}
	return out
}()

// Describe sends every descriptor the collector may emit.
func (l legacyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range legacyDescs {
		ch <- d
	}
}

// Collect emits the snapshot's series as const metrics.
func (l legacyCollector) Collect(ch chan<- prometheus.Metric) {
	s := l.snap()
	if s == nil {
		return
	}
	g := func(spec metrics.Spec, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(legacyDescs[spec.Name], prometheus.GaugeValue, v, labels...)
	}
	g(metrics.LagObjective, s.Objective)
	g(metrics.ClusterBrokers, float64(s.Brokers))
	for i := range s.Groups {
		gl := &s.Groups[i]
		g(metrics.GroupMembers, float64(gl.Members), gl.Group)
		g(metrics.GroupInfo, 1, gl.Group, gl.State, gl.Protocol)
		ch <- prometheus.MustNewConstMetric(legacyDescs[metrics.LagObjectiveBreach.Name], prometheus.CounterValue, gl.BreachSeconds, gl.Group)
		for _, st := range lag.AllStatuses {
			on := 0.0
			if st == gl.Status || (gl.Status == lag.StatusErr && st == gl.Cause) {
				on = 1
			}
			g(metrics.GroupStatus, on, gl.Group, st.String())
		}
		for j := range gl.Topics {
			t := &gl.Topics[j]
			g(metrics.GroupLagRecords, float64(t.LagRecords), gl.Group, t.Topic)
			if t.LagSeconds.Known() {
				g(metrics.GroupLagSeconds, float64(t.LagSeconds), gl.Group, t.Topic)
			}
			if !l.partitions {
				continue
			}
			for _, pl := range t.Partitions {
				part := strconv.Itoa(int(pl.Partition))
				g(metrics.GroupPartitionLagRecords, float64(pl.LagRecords), gl.Group, t.Topic, part)
				if pl.LagSeconds.Known() {
					g(metrics.GroupPartitionLagSeconds, float64(pl.LagSeconds), gl.Group, t.Topic, part)
				}
			}
		}
	}
}
