package lag

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// promCollector exposes the latest snapshot. Collect reads one atomic
// pointer and emits const metrics: a scrape never calls Kafka.
type promCollector struct{ c *Collector }

var (
	descGroupLag         = metrics.GroupLagRecords.Desc()
	descPartitionLag     = metrics.GroupPartitionLagRecords.Desc()
	descGroupLagSeconds  = metrics.GroupLagSeconds.Desc()
	descPartitionSeconds = metrics.GroupPartitionLagSeconds.Desc()
	descStatus           = metrics.GroupStatus.Desc()
	descMembers          = metrics.GroupMembers.Desc()
	descInfo             = metrics.GroupInfo.Desc()
	descObjective        = metrics.LagObjective.Desc()
	descBreach           = metrics.LagObjectiveBreach.Desc()
	descDLQDepth         = metrics.DLQDepth.Desc()
	descDLQRecords       = metrics.DLQRecords.Desc()
	descDLQNew           = metrics.DLQNewRecords.Desc()
	descDLQRetention     = metrics.DLQRetention.Desc()
	descBrokers          = metrics.ClusterBrokers.Desc()
	descViolations       = metrics.ClusterRuleViolations.Desc()
)

// Describe sends every descriptor the collector may emit.
func (p promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGroupLag, descPartitionLag, descGroupLagSeconds, descPartitionSeconds,
		descStatus, descMembers, descInfo, descObjective, descBreach, descDLQDepth, descDLQRecords, descDLQNew,
		descDLQRetention, descBrokers, descViolations} {
		ch <- d
	}
}

// Collect emits the metrics of the latest snapshot; nothing before the
// first cycle.
func (p promCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.c.Snapshot()
	if s == nil {
		return
	}
	gauge(ch, descObjective, s.Objective)
	gauge(ch, descBrokers, float64(s.Brokers))
	partitions := p.c.cfg.Granularity == GranularityPartition
	for i := range s.Groups {
		collectGroup(ch, &s.Groups[i], partitions)
	}
	for _, d := range s.DLQs {
		gauge(ch, descDLQDepth, float64(d.DepthRecords), d.Topic, d.SourceService)
		ch <- prometheus.MustNewConstMetric(descDLQRecords, prometheus.CounterValue, float64(d.Records), d.Topic, d.SourceService)
		gauge(ch, descDLQNew, float64(d.NewRecords), d.Topic, d.SourceService)
		if d.RetentionSeconds != 0 {
			gauge(ch, descDLQRetention, d.RetentionSeconds, d.Topic)
		}
	}
	for _, v := range s.Violations {
		gauge(ch, descViolations, 1, v.Rule, v.Resource, v.Severity)
	}
}

func collectGroup(ch chan<- prometheus.Metric, g *GroupLag, partitions bool) {
	gauge(ch, descMembers, float64(g.Members), g.Group)
	gauge(ch, descInfo, 1, g.Group, g.State, g.Protocol)
	ch <- prometheus.MustNewConstMetric(descBreach, prometheus.CounterValue, g.BreachSeconds, g.Group)
	for _, s := range AllStatuses {
		on := s == g.Status || (g.Status == StatusErr && s == g.Cause)
		gauge(ch, descStatus, boolFloat(on), g.Group, s.String())
	}
	for i := range g.Topics {
		t := &g.Topics[i]
		if t.UnknownPartitions < t.Committed {
			gauge(ch, descGroupLag, float64(t.LagRecords), g.Group, t.Topic)
		}
		if t.LagSeconds.Known() {
			gauge(ch, descGroupLagSeconds, float64(t.LagSeconds), g.Group, t.Topic)
		}
		if !partitions {
			continue
		}
		for _, pl := range t.Partitions {
			if !pl.LagKnown {
				continue
			}
			part := strconv.Itoa(int(pl.Partition))
			gauge(ch, descPartitionLag, float64(pl.LagRecords), g.Group, t.Topic, part)
			if pl.LagSeconds.Known() {
				gauge(ch, descPartitionSeconds, float64(pl.LagSeconds), g.Group, t.Topic, part)
			}
		}
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

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
