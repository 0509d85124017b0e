package share

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// boardMetrics are the board's series (listed in the package doc).
type boardMetrics struct {
	errs         *prometheus.CounterVec
	docsGauge    *prometheus.GaugeVec
	records      *prometheus.CounterVec
	bytesOut     *prometheus.CounterVec
	splitItems   *prometheus.CounterVec
	omittedItems *prometheus.CounterVec
	largestGauge *prometheus.GaugeVec
	limitGauge   prometheus.Gauge
	viewAge      *prometheus.GaugeVec
	missing      *prometheus.GaugeVec

	largestMu sync.Mutex
	largest   map[string]int
}

func newBoardMetrics(reg prometheus.Registerer) boardMetrics {
	return boardMetrics{
		errs:         metrics.SharePublishErrors.NewCounterVec(reg),
		docsGauge:    metrics.ShareDocuments.NewGaugeVec(reg),
		records:      metrics.SharePublishedRecords.NewCounterVec(reg),
		bytesOut:     metrics.SharePublishedBytes.NewCounterVec(reg),
		splitItems:   metrics.ShareSplitItems.NewCounterVec(reg),
		omittedItems: metrics.ShareOmittedItems.NewCounterVec(reg),
		largestGauge: metrics.ShareLargestRecord.NewGaugeVec(reg),
		limitGauge:   metrics.ShareRecordLimit.NewGaugeVec(reg).WithLabelValues(),
		viewAge:      metrics.ShareViewAge.NewGaugeVec(reg),
		missing:      metrics.ShareViewIncomplete.NewGaugeVec(reg),
		largest:      map[string]int{},
	}
}

// noteLargest raises kind's largest-record gauge to n.
func (m *boardMetrics) noteLargest(kind string, n int) {
	m.largestMu.Lock()
	defer m.largestMu.Unlock()
	if n > m.largest[kind] {
		m.largest[kind] = n
		m.largestGauge.WithLabelValues(kind).Set(float64(n))
	}
}

// LargestRecord is the largest record (key and value) this board wrote
// for kind.
func (b *Board) LargestRecord(kind string) int {
	b.largestMu.Lock()
	defer b.largestMu.Unlock()
	return b.largest[kind]
}

// updateGauges refreshes the per-kind document, age and completeness
// gauges (without assembling any document).
func (b *Board) updateGauges() {
	type counts struct{ fresh, stale, missing int }
	now := b.now()
	per := map[string]counts{}
	b.mu.RLock()
	for kind, byReplica := range b.docs {
		c := per[kind]
		for _, s := range byReplica {
			if s.head == nil {
				continue
			}
			if now.Sub(s.head.PublishedAt) > b.cfg.StaleAfter {
				c.stale++
			} else {
				c.fresh++
			}
			c.missing += s.incomplete
		}
		per[kind] = c
	}
	b.mu.RUnlock()
	for k, c := range per {
		b.docsGauge.WithLabelValues(k, "fresh").Set(float64(c.fresh))
		b.docsGauge.WithLabelValues(k, "stale").Set(float64(c.stale))
		b.missing.WithLabelValues(k).Set(float64(c.missing))
		if age, ok := b.ViewAge(k); ok {
			b.viewAge.WithLabelValues(k).Set(age.Seconds())
		}
	}
}
