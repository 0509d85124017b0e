// Package metricstest reads Prometheus registries in tests: the summed
// value of a metric's samples whose labels include a set, one family, and
// golden exposition files (testdata/*.golden.prom) that a -update flag
// rewrites. It replaces the per-package metric readers of the tests.
package metricstest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Family returns the family called name, or nil when g has none.
func Family(t testing.TB, g prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// Value sums the samples of metric name whose labels include every pair of
// want (nil or empty: all samples). A counter or gauge adds its value, a
// histogram or summary its sample count.
func Value(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	var sum float64
	if mf := Family(t, g, name); mf != nil {
		for _, m := range mf.GetMetric() {
			if LabelsMatch(m, want) {
				sum += SampleValue(m)
			}
		}
	}
	return sum
}

// LabelsMatch reports whether m carries every label pair of want.
func LabelsMatch(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// SampleValue is a counter's or gauge's value, or a histogram's or
// summary's sample count.
func SampleValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Summary != nil:
		return float64(m.Summary.GetSampleCount())
	}
	return 0
}

// Golden compares the exposition of the named families of g with the file
// at path; with update set it first rewrites the file from g. Families are
// written in the order Gather returns them (sorted by name).
func Golden(t testing.TB, g prometheus.Gatherer, path string, update bool, names ...string) {
	t.Helper()
	if len(names) == 0 {
		t.Fatal("metricstest.Golden: name the families to compare")
	}
	if update {
		writeGolden(t, g, path, names)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run the test with -update to create it): %v", err)
	}
	if err := testutil.GatherAndCompare(g, bytes.NewReader(want), names...); err != nil {
		t.Fatalf("exposition differs from %s (run with -update after checking the change is intended):\n%v", path, err)
	}
}

func writeGolden(t testing.TB, g prometheus.Gatherer, path string, names []string) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if !want[mf.GetName()] {
			continue
		}
		delete(want, mf.GetName())
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatalf("write %s: %v", mf.GetName(), err)
		}
	}
	for n := range want {
		t.Fatalf("metricstest.Golden: the registry has no family %s", n)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("create golden dir: %v", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatalf("write golden: %v", err)
	}
}
