package sample

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// Two replicas in the same group split the partitions; partitions handed
// over when one joins or leaves are neither missed nor counted twice, so
// the counters summed across replicas equal what was produced.
func TestSamplerReplicasSplitWithoutDoubleCounting(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(4, "shared"))
	pr := manualProducer(t, c)
	topic := map[string]string{"topic": "shared"}
	batch := func(n int, tag string) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = rec("shared", int32(i%4), fmt.Sprintf(`{"event_id":"%s-%d"}`, tag, i))
		}
		produce(t, pr, recs...)
	}
	total := func(hs ...*harness) float64 {
		var sum float64
		for _, h := range hs {
			sum += h.value("eventwatch_records_observed_total", topic)
		}
		return sum
	}
	waitTotal := func(want float64, hs ...*harness) {
		t.Helper()
		wait.Describe(t, wait.Default, func() string {
			return fmt.Sprintf("observed across replicas to reach %v (it is %v)", want, total(hs...))
		},
			func() bool { return total(hs...) >= want })
		if got := total(hs...); got != want {
			t.Fatalf("observed across replicas = %v, want %v", got, want)
		}
	}

	a := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	a.waitAssigned(4)
	batch(40, "one")
	waitTotal(40, a)

	b := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	wait.For(t, "the partitions to be split", func() bool {
		sa, sb := a.s.Status().AssignedPartitions, b.s.Status().AssignedPartitions
		return sa > 0 && sb > 0 && sa+sb == 4
	})
	batch(40, "two")
	waitTotal(80, a, b)
	if b.value("eventwatch_records_observed_total", topic) == 0 {
		t.Errorf("the second replica observed nothing")
	}

	a.stop()
	b.waitAssigned(4)
	batch(40, "three")
	waitTotal(120, a, b)
	checked := func() float64 {
		return a.value("eventwatch_records_checked_total", topic) + b.value("eventwatch_records_checked_total", topic)
	}
	wait.For(t, "checked across replicas", func() bool { return checked() >= 120 })
	if got := checked(); got != 120 {
		t.Errorf("checked across replicas = %v, want 120", got)
	}
}
