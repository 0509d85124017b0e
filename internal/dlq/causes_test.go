package dlq

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

// TestCauseRecordsSumPerTopicClassAndService: eventwatch_dlq_cause_records
// is, per dead-letter topic, error class and service, the dead letters the
// test added under them (summed over original topics, groups and types),
// one series each.
func TestCauseRecordsSumPerTopicClassAndService(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := TriageConfig{MaxClasses: 50, Retention: 24 * time.Hour}
	tr := NewTriage(cfg, nil, nil, nil, reg, nil)
	want := map[[3]string]float64{}
	at := time.Now()
	for i := range 300 {
		topic, class, svc := fmt.Sprintf("dlq.t%d", i%7), fmt.Sprintf("Err%d", i%11), fmt.Sprintf("svc%d", i%5)
		tr.Add(&Letter{Topic: topic, ErrorClass: class, Service: svc, OriginalTopic: fmt.Sprintf("orig%d", i%3), Time: at})
		want[[3]string{topic, class, svc}]++
	}
	fam := metricstest.Family(t, reg, "eventwatch_dlq_cause_records")
	if len(fam.GetMetric()) != len(want) {
		t.Fatalf("%d series, want %d", len(fam.GetMetric()), len(want))
	}
	for k, n := range want {
		got := metricstest.Value(t, reg, "eventwatch_dlq_cause_records", map[string]string{"topic": k[0], "error_class": k[1], "service": k[2]})
		if got != n {
			t.Errorf("%v: %v, want %v", k, got, n)
		}
	}
}

// BenchmarkCauseCollect is one scrape of eventwatch_dlq_cause_records
// with 20 dead-letter topics × 50 error classes × 2 services.
func BenchmarkCauseCollect(b *testing.B) {
	reg := prometheus.NewRegistry()
	tr := NewTriage(TriageConfig{MaxClasses: 50, Retention: 24 * time.Hour}, nil, nil, nil, reg, nil)
	for i := range 2000 {
		tr.Add(&Letter{Topic: fmt.Sprintf("dlq.t%02d", i%20), ErrorClass: fmt.Sprintf("Err%02d", i/20%50), Service: fmt.Sprintf("svc%d", i/1000), Time: time.Now()})
	}
	b.ResetTimer()
	for range b.N {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
