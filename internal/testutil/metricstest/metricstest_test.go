package metricstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_total", Help: "h"}, []string{"a", "b"})
	reg.MustRegister(c)
	c.WithLabelValues("x", "1").Add(2)
	c.WithLabelValues("x", "2").Add(3)
	c.WithLabelValues("y", "1").Add(5)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "t_seconds", Help: "h", Buckets: []float64{1}})
	reg.MustRegister(h)
	h.Observe(0.5)
	h.Observe(2)
	return reg
}

func TestValue(t *testing.T) {
	reg := registry()
	for _, c := range []struct {
		name string
		want map[string]string
		v    float64
	}{
		{"t_total", nil, 10},
		{"t_total", map[string]string{"a": "x"}, 5},
		{"t_total", map[string]string{"a": "x", "b": "1"}, 2},
		{"t_total", map[string]string{"a": "z"}, 0},
		{"t_total", map[string]string{"c": "x"}, 0},
		{"t_seconds", nil, 2},
		{"absent", nil, 0},
	} {
		if got := Value(t, reg, c.name, c.want); got != c.v {
			t.Errorf("Value(%s, %v) = %v, want %v", c.name, c.want, got, c.v)
		}
	}
}

func TestGoldenWritesThenCompares(t *testing.T) {
	reg := registry()
	path := filepath.Join(t.TempDir(), "x.golden.prom")
	Golden(t, reg, path, true, "t_total", "t_seconds")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `t_total{a="y",b="1"} 5`) || !strings.Contains(string(b), "t_seconds_count 2") {
		t.Fatalf("golden:\n%s", b)
	}
	Golden(t, reg, path, false, "t_total", "t_seconds")
	changed := strings.Replace(string(b), `t_total{a="y",b="1"} 5`, `t_total{a="y",b="1"} 6`, 1)
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &fatalRecorder{TB: t}
	Golden(r, reg, path, false, "t_total", "t_seconds")
	if !r.failed {
		t.Fatal("a changed value compared equal")
	}
}

type fatalRecorder struct {
	testing.TB
	failed bool
}

func (r *fatalRecorder) Helper()               {}
func (r *fatalRecorder) Fatalf(string, ...any) { r.failed = true }

func TestRecorderRecordsUnusedVectors(t *testing.T) {
	r := NewRecorder()
	prometheus.NewCounterVec(prometheus.CounterOpts{Name: "a_total", Help: "h"}, []string{"x"})
	r.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "b_total", Help: "h"}, []string{"x"}),
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "c", Help: "h"}))
	if got := r.Names(); len(got) != 2 || got[0] != "b_total" || got[1] != "c" {
		t.Fatalf("Names = %v", got)
	}
}

func TestCheckDocMetrics(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.go")
	body := "// Package x.\n//\n// # Metrics\n//\n//\teventwatch_records_checked_total{topic}    counter\n//\teventwatch_sampler_topics\n//\n// # Other\n//\n//\teventwatch_not_a_metric\npackage x\n"
	if err := os.WriteFile(doc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	CheckDocMetrics(t, doc, []string{"eventwatch_records_checked_total", "eventwatch_sampler_topics"})
	for _, tc := range []struct {
		name       string
		body       string
		registered []string
	}{
		{"unlisted metric", body, []string{"eventwatch_records_checked_total", "eventwatch_sampler_topics", "eventwatch_sampler_queued_records"}},
		{"listed but not registered", body, []string{"eventwatch_records_checked_total"}},
		{"wrong labels", strings.Replace(body, "{topic}", "{topic,rule}", 1), []string{"eventwatch_records_checked_total", "eventwatch_sampler_topics"}},
		{"wrong kind", strings.Replace(body, "counter", "gauge", 1), []string{"eventwatch_records_checked_total", "eventwatch_sampler_topics"}},
	} {
		if err := os.WriteFile(doc, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		r := &errRecorder{TB: t}
		CheckDocMetrics(r, doc, tc.registered)
		if !r.failed {
			t.Errorf("%s: not caught", tc.name)
		}
	}
}

type errRecorder struct {
	testing.TB
	failed bool
}

func (r *errRecorder) Helper()               {}
func (r *errRecorder) Errorf(string, ...any) { r.failed = true }
