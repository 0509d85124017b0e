package websocket

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// vectors are the prober's metric vectors, registered once.
type vectors struct {
	success, compliant, duration, pong *prometheus.GaugeVec
	probes, received, audited, ok      *prometheus.CounterVec
	violations, closes                 *prometheus.CounterVec
	heartbeat                          *prometheus.HistogramVec
}

func newVectors(reg prometheus.Registerer) *vectors {
	return &vectors{
		success:    metrics.WebSocketProbeSuccess.NewGaugeVec(reg),
		compliant:  metrics.WebSocketProbeCompliant.NewGaugeVec(reg),
		duration:   metrics.WebSocketProbeDuration.NewGaugeVec(reg),
		pong:       metrics.WebSocketPingAnswered.NewGaugeVec(reg),
		probes:     metrics.WebSocketProbes.NewCounterVec(reg),
		received:   metrics.WebSocketMessagesReceived.NewCounterVec(reg),
		audited:    metrics.WebSocketMessagesAudited.NewCounterVec(reg),
		ok:         metrics.WebSocketMessagesCompliant.NewCounterVec(reg),
		violations: metrics.WebSocketViolations.NewCounterVec(reg),
		closes:     metrics.WebSocketServerCloses.NewCounterVec(reg),
		heartbeat:  metrics.WebSocketHeartbeatInterval.NewHistogramVec(reg),
	}
}

// targetMetrics are one target's series (labels target and service).
type targetMetrics struct {
	v             *vectors
	name, service string
}

func (v *vectors) forTarget(name, service string) *targetMetrics {
	m := &targetMetrics{v: v, name: name, service: service}
	// the counters exist from the start, so rate() sees the first increase
	v.audited.WithLabelValues(name, service)
	v.ok.WithLabelValues(name, service)
	for _, r := range []string{"success", "failure"} {
		v.probes.WithLabelValues(name, service, r)
	}
	return m
}

func (m *targetMetrics) probed(res *Result) {
	m.v.success.WithLabelValues(m.name, m.service).Set(b2f(res.Success))
	m.v.compliant.WithLabelValues(m.name, m.service).Set(b2f(res.Compliant))
	m.v.duration.WithLabelValues(m.name, m.service).Set(res.Duration)
	r := "failure"
	if res.Success {
		r = "success"
	}
	m.v.probes.WithLabelValues(m.name, m.service, r).Inc()
}

func (m *targetMetrics) received(kind string) {
	m.v.received.WithLabelValues(m.name, m.service, kind).Inc()
}

func (m *targetMetrics) audited(compliant bool) {
	m.v.audited.WithLabelValues(m.name, m.service).Inc()
	if compliant {
		m.v.ok.WithLabelValues(m.name, m.service).Inc()
	}
}

func (m *targetMetrics) violation(rule string, sev event.Severity) {
	m.v.violations.WithLabelValues(m.name, m.service, rule, string(sev)).Inc()
}

func (m *targetMetrics) heartbeat(kind string, gap time.Duration) {
	m.v.heartbeat.WithLabelValues(m.name, m.service, kind).Observe(gap.Seconds())
}

func (m *targetMetrics) pingAnswered(ok bool) {
	m.v.pong.WithLabelValues(m.name, m.service).Set(b2f(ok))
}

// closed counts a refused attempt's server close (HTTP refusals are no
// close).
func (m *targetMetrics) closed(attempt string, a Attempt) {
	if a.Outcome == OutcomeRefused && a.CloseCode != 0 {
		m.serverClose(attempt, a.CloseCode)
	}
}

func (m *targetMetrics) serverClose(attempt string, code int) {
	m.v.closes.WithLabelValues(m.name, m.service, attempt, codeLabel(code)).Inc()
}

// codeLabel bounds the code label: the codes RFC 6455 and IANA register
// (1000-1015) as themselves, library and application codes by range.
func codeLabel(code int) string {
	switch {
	case code >= 1000 && code <= 1015:
		return strconv.Itoa(code)
	case code >= 3000 && code <= 3999:
		return "3xxx"
	case code >= 4000 && code <= 4999:
		return "4xxx"
	}
	return "other"
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
