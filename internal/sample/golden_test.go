package sample

import (
	"flag"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenFamilies are the families of a sampling run whose exposition is
// deterministic for known records (lag, queue and rebalance series depend
// on timing and are checked elsewhere).
var goldenFamilies = []string{
	"eventwatch_records_observed_total", "eventwatch_records_checked_total",
	"eventwatch_records_compliant_total", "eventwatch_violations_total",
	"eventwatch_event_size_bytes", "eventwatch_sampler_skipped_records_total",
	"eventwatch_sampler_assigned_partitions",
}

// TestExpositionGolden samples known records on two topics and compares the
// exposition with testdata/sample.golden.prom (-update rewrites it): names,
// labels, histogram buckets and values stay exactly as they are.
func TestExpositionGolden(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(3, "orders"), kfake.SeedTopics(1, "users"))
	pr := manualProducer(t, c)
	h := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	h.waitAssigned(4)
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, rec("orders", int32(i%3), fmt.Sprintf(`{"event_id":"o%d","source":"billing","pad":"%0*d"}`, i, i*40, 0)))
	}
	for i := range 4 {
		recs = append(recs, rec("orders", int32(i%3), `{"source":"shipping"}`))
	}
	recs = append(recs, rec("orders", 1, "not json"), rec("orders", 2, "{"))
	for i := range 5 {
		recs = append(recs, rec("users", 0, fmt.Sprintf(`{"event_id":"u%d","source":"accounts"}`, i)))
	}
	recs = append(recs, &kgo.Record{Topic: "users", Partition: 0}) // a tombstone
	produce(t, pr, recs...)
	h.waitValue("eventwatch_records_checked_total", map[string]string{"topic": "orders"}, 16)
	h.waitValue("eventwatch_records_checked_total", map[string]string{"topic": "users"}, 6)
	h.stop()
	metricstest.Golden(t, h.reg, filepath.Join("testdata", "sample.golden.prom"), *update, goldenFamilies...)
}
