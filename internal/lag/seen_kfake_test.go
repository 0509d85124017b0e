package lag_test

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

// readAll reads every record of topic up to the fixture's end offsets
// with a consumer of its own and hands each fetched partition's records
// to seen, as the sampler does (sample.WithRecordTimes); the consumer is
// closed before it returns, so that it sends no more fetches.
func (f *fixture) readAll(topic string, seen *lag.SeenTimes) {
	f.t.Helper()
	cl := kfaketest.Client(f.t, f.cluster, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	read := map[int32]int64{}
	done := func() bool {
		for p, end := range f.produced[topic] {
			if read[p] < end {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(f.ctx())
		if err := f.ctx().Err(); err != nil {
			f.t.Fatalf("read %s: %v (read %v of %v)", topic, err, read, f.produced[topic])
		}
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			seen.NoteRecords(p.Topic, p.Partition, p.Records)
			if n := len(p.Records); n > 0 {
				read[p.Partition] = p.Records[n-1].Offset + 1
			}
		})
	}
}

// countFetches counts the Fetch requests the cluster receives while
// counting is on.
func (f *fixture) countFetches(counting *atomic.Bool) *atomic.Int64 {
	var n atomic.Int64
	f.cluster.ControlKey(kmsg.Fetch.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		f.cluster.KeepControl()
		if counting.Load() {
			n.Add(1)
		}
		return nil, nil, false
	})
	return &n
}

// TestSampledTimesNeedNoFetch: the timestamps of the records the sampler
// read feed exact time lag. A group a few records behind gets its exact
// time lag — equal to the true age of its first unread record — without a
// Fetch; one whose committed offset is older than what the sampler
// remembers is looked up with one Fetch, as before, and is exact too.
func TestSampledTimesNeedNoFetch(t *testing.T) {
	f := newFixture(t, map[string]int32{"events": 2})
	var counting atomic.Bool
	fetches := f.countFetches(&counting)
	f.clock = &virtualClock{base: time.Now().Add(-time.Hour), step: 15 * time.Second}
	seen := lag.NewSeenTimes()
	reg := prometheus.NewRegistry()
	c, err := lag.New(testConfig(), f.cl, lag.Expectations{}, reg, slog.New(slog.DiscardHandler),
		lag.WithRecordClient(f.cl), lag.WithSampledTimes(seen))
	if err != nil {
		t.Fatal(err)
	}
	lag.SetClock(c, f.clock.cycle)

	counting.Store(true)
	t1 := f.clock.now()
	f.produce("events", 0, 5)
	f.produce("events", 1, 30)
	f.commit("g", map[string]map[int32]int64{"events": {0: 5, 1: 2}}) // p0 caught up; p1 far behind
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	t2 := f.clock.now()
	f.produce("events", 0, 2) // a burst on the caught-up partition: its first unread record is offset 5
	f.produce("events", 1, 3)
	if n := fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d in the first cycle, want 1 (partition 1's offset 2; partition 0 is caught up)", n)
	}
	counting.Store(false) // the sampler's own reads
	f.readAll("events", seen)
	counting.Store(true)
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	now := c.Snapshot().Time
	check := func(step string, truth map[int32]time.Time) {
		t.Helper()
		g, _ := c.GroupDetail("g")
		for _, p := range g.Topics[0].Partitions {
			want := now.Sub(truth[p.Partition]).Seconds()
			if p.LagSecondsSource != lag.SourceExact || float64(p.LagSeconds) != want {
				t.Errorf("%s: partition %d time lag %v s (%s), want %v s exact", step, p.Partition, p.LagSeconds, p.LagSecondsSource, want)
			}
		}
	}
	check("burst", map[int32]time.Time{0: t2, 1: t1})
	if n := fetches.Load(); n != 1 {
		t.Errorf("fetches = %d, want still 1 (partition 0's offset 5 was sampled, partition 1's offset 2 is cached)", n)
	}
	stamps := func(src string) float64 {
		return metricstest.Value(t, reg, "eventwatch_time_lag_records_total", map[string]string{"source": src})
	}
	if s, fe := stamps("sampled"), stamps("fetched"); s != 1 || fe != 1 {
		t.Errorf("record stamps sampled %v, fetched %v; want 1 and 1", s, fe)
	}

	// partition 1's group moves to offset 25, among the records the
	// sampler read last: no fetch either
	f.commit("g", map[string]map[int32]int64{"events": {0: 5, 1: 25}})
	if err := c.CollectOnce(f.ctx()); err != nil {
		t.Fatal(err)
	}
	now = c.Snapshot().Time
	check("advanced", map[int32]time.Time{0: t2, 1: t1})
	if n := fetches.Load(); n != 1 {
		t.Errorf("fetches = %d after the group advanced into sampled records, want still 1", n)
	}
}
