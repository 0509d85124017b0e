package trace

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

// t0 is the start of every test flow.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// clock is a settable time source for the stitcher.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// fixture is a stitcher on its own registry with a fake clock; tests feed it
// synchronously through ingest and sweep.
type fixture struct {
	s   *Stitcher
	reg *prometheus.Registry
	clk *clock
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(cfg, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	clk := &clock{now: t0}
	s.now = clk.Now
	return &fixture{s: s, reg: reg, clk: clk}
}

// feed ingests one record at the fixture's clock.
func (f *fixture) feed(rec *event.Record, res *event.Result) {
	f.s.ingest(newEvent(rec, res), f.clk.now)
}

// closeAll advances the clock past the window and sweeps.
func (f *fixture) closeAll() {
	f.clk.now = f.clk.now.Add(f.s.cfg.Window + time.Second)
	f.s.sweep(f.clk.now)
}

// ev describes one test event.
type ev struct {
	topic       string
	partition   int32
	offset      int64
	key         string
	id          string
	typ         string
	service     string
	correlation string
	traceparent string
	traceID     string        // envelope trace id
	spanID      string        // envelope span id
	at          time.Duration // event time after t0; negative means absent
	recordAfter time.Duration // record time after the event time
}

func (e ev) record() (*event.Record, *event.Result) {
	evTime := t0.Add(e.at)
	rec := &event.Record{Topic: e.topic, Partition: e.partition, Offset: e.offset,
		Value: []byte(`{"secret":"payload-must-not-leak"}`), Timestamp: evTime.Add(e.recordAfter)}
	if e.key != "" {
		rec.Key = []byte(e.key)
	}
	if e.traceparent != "" {
		rec.Headers = []event.Header{{Key: "traceparent", Value: []byte(e.traceparent)}}
	}
	res := &event.Result{EventID: e.id, EventType: e.typ, Source: e.service, CorrelationID: e.correlation,
		TraceID: e.traceID, SpanID: e.spanID, EventTime: evTime, Size: len(rec.Value)}
	if e.traceparent != "" { // what the audit engine does: parse the header once, onto the Result
		res.Traceparent = event.ParseTraceparent([]byte(e.traceparent))
	}
	if e.at < 0 {
		res.EventTime = time.Time{}
		rec.Timestamp = t0.Add(e.recordAfter)
	}
	return rec, res
}

func tp(trace, span string) string { return fmt.Sprintf("00-%s-%s-01", trace, span) }

// Ids used across tests.
const (
	traceA = "4bf92f3577b34da6a3ce929d0e0e4736"
	traceB = "0af7651916cd43dd8448eb211c80319c"
	spanA1 = "00f067aa0ba902b7"
	spanA2 = "b7ad6b7169203331"
	spanA3 = "e457b5a2e4d86bd1"
)

// threeHop is the HuleEdu spellcheck flow, traced by every service.
func threeHop(corr string) []ev {
	return []ev{
		{topic: "huleedu.batch.pipelines", offset: 1, id: "e1", typ: "huleedu.batchorchestration.batch.pipelines_configured.v1",
			service: "batchorchestration", correlation: corr, traceparent: tp(traceA, spanA1), at: 0, recordAfter: 5 * time.Millisecond},
		{topic: "huleedu.essay.spellcheck", offset: 7, id: "e2", typ: "huleedu.essaylifecycle.essay.spellcheck_requested.v1",
			service: "essaylifecycle", correlation: corr, traceparent: tp(traceA, spanA2), at: 150 * time.Millisecond, recordAfter: 2 * time.Millisecond},
		{topic: "huleedu.spellcheck.results", offset: 3, id: "e3", typ: "huleedu.spellchecker.essay.spellcheck_completed.v1",
			service: "spellchecker", correlation: corr, traceparent: tp(traceA, spanA3), at: 400 * time.Millisecond, recordAfter: time.Millisecond},
	}
}

// metricFamily returns the gathered family name, or nil.
func metricFamily(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	return metricstest.Family(t, reg, name)
}

// sample finds the metric of family name whose labels match want.
func sample(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mf := metricFamily(t, reg, name)
	if mf == nil {
		return nil
	}
	for _, m := range mf.GetMetric() {
		if labelsMatch(m, want) {
			return m
		}
	}
	return nil
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	if len(m.GetLabel()) != len(want) {
		return false
	}
	for _, lp := range m.GetLabel() {
		if want[lp.GetName()] != lp.GetValue() {
			return false
		}
	}
	return true
}

// counter returns the value of a counter sample, 0 when absent.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	if m := sample(t, reg, name, labels); m != nil {
		return m.GetCounter().GetValue()
	}
	return 0
}

// histogram returns a histogram sample's count and sum, zero when absent.
func histogram(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (uint64, float64) {
	t.Helper()
	if m := sample(t, reg, name, labels); m != nil {
		return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
	}
	return 0, 0
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }
