package sample

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// Known records in, the right counts out; records produced before the
// sampler started are not counted (start_from latest); the sampler neither
// produces nor creates any group but its own.
func TestSamplerCountsKnownRecords(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(3, "orders"))
	pr := manualProducer(t, c)
	old := rec("orders", 0, `{"event_id":"old"}`)
	old.Timestamp = time.Now().Add(-time.Hour)
	produce(t, pr, old)

	a := &fakeAuditor{}
	sink := &countingSink{}
	h := newHarness(t, c, testConfig(), a, sink).start()
	h.waitAssigned(3) // start_from latest: what is produced from now on is sampled

	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, rec("orders", int32(i%3), fmt.Sprintf(`{"event_id":"e%d","source":"billing"}`, i)))
	}
	for i := range 12 {
		recs = append(recs, rec("orders", int32(i%3), `{"source":"shipping"}`))
	}
	for i := range 3 {
		recs = append(recs, &kgo.Record{Topic: "orders", Partition: int32(i), Value: []byte{0xff, 0x00, 0xfe}})
	}
	produce(t, pr, recs...)

	orders := map[string]string{"topic": "orders"}
	h.waitValue("eventwatch_records_observed_total", orders, 45)
	h.waitValue("eventwatch_records_checked_total", orders, 45)
	h.stop()

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"eventwatch_records_compliant_total", orders, 30},
		{"eventwatch_event_size_bytes", orders, 45},
		{"eventwatch_sampler_skipped_records_total", orders, 0},
		{"eventwatch_violations_total", map[string]string{"rule": "envelope.missing_field", "source_service": "shipping", "severity": "error"}, 12},
		{"eventwatch_violations_total", map[string]string{"rule": "envelope.invalid_json", "source_service": ServiceUnknown}, 3},
		{"eventwatch_sampler_dropped_records_total", nil, 0},
	} {
		if got := h.value(tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if got := sink.n.Load(); got != 45 {
		t.Errorf("sink saw %d records, want 45", got)
	}
	assertPassive(t, c, "orders", 46)
}

// assertPassive checks the topic holds exactly the produced records and that
// the only group with offsets is the sampler's, committed to the end.
func assertPassive(t *testing.T, c *kfake.Cluster, topic string, produced int64) {
	t.Helper()
	adm := kadm.NewClient(kfaketest.Client(t, c))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != produced {
		t.Errorf("topic %s holds %d records, want %d (the sampler must never produce)", topic, total, produced)
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatalf("list groups: %v", err)
	}
	if names := groups.Groups(); len(names) != 1 || names[0] != "eventwatch" {
		t.Errorf("groups = %v, want only [eventwatch]", names)
	}
	committed, err := adm.FetchOffsets(ctx, "eventwatch")
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		got, ok := committed.Lookup(topic, o.Partition)
		if !ok || got.At != o.Offset {
			t.Errorf("committed %s/%d = %v (found %v), want %d", topic, o.Partition, got.At, ok, o.Offset)
		}
	})
}

// A topic created after the sampler started is picked up within the
// metadata refresh and read from its first record.
func TestSamplerPicksUpNewTopic(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "first"))
	h := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	h.waitAssigned(1)

	pr := manualProducer(t, c)
	createTopic(t, pr, "late", 2)
	produce(t, pr, rec("late", 0, `{"event_id":"a"}`), rec("late", 1, `{"event_id":"b"}`), rec("late", 1, `{}`))

	late := map[string]string{"topic": "late"}
	h.waitValue("eventwatch_records_observed_total", late, 3)
	h.waitValue("eventwatch_records_checked_total", late, 3)
	h.waitAssigned(3)
	wait.For(t, "topics gauge", func() bool { return h.value("eventwatch_sampler_topics", nil) == 2 })
}

// Internal topics are never sampled by default.
func TestSamplerExcludesInternalTopics(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "app", "_schemas", "connect-offsets", "__private"))
	h := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	h.waitAssigned(1) // start_from latest: what is produced from now on is sampled
	pr := manualProducer(t, c)
	produce(t, pr, rec("_schemas", 0, `{}`), rec("connect-offsets", 0, `{}`), rec("__private", 0, `{}`), rec("app", 0, `{}`))
	h.waitValue("eventwatch_records_observed_total", map[string]string{"topic": "app"}, 1)
	if got := h.value("eventwatch_records_observed_total", nil); got != 1 {
		t.Errorf("observed over all topics = %v, want 1 (internal topics excluded)", got)
	}
	if got := h.s.Status().AssignedPartitions; got != 1 {
		t.Errorf("assigned partitions = %d, want 1", got)
	}
}

// A restart in the same group resumes exactly where the first run stopped:
// what was produced while it was down is counted once, nothing twice.
func TestSamplerRestartResumesWithoutGap(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "flow"))
	pr := manualProducer(t, c)
	flow := map[string]string{"topic": "flow"}
	batch := func(n int, tag string) []*kgo.Record {
		out := make([]*kgo.Record, n)
		for i := range out {
			out[i] = rec("flow", 0, fmt.Sprintf(`{"event_id":"%s-%d"}`, tag, i))
		}
		return out
	}

	first := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	first.waitAssigned(1) // start_from latest: what is produced from now on is sampled
	produce(t, pr, batch(20, "a")...)
	first.waitValue("eventwatch_records_observed_total", flow, 20)
	first.stop()

	produce(t, pr, batch(15, "b")...) // while no sampler runs

	second := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	produce(t, pr, batch(1, "c")...) // the last record: once it is counted, all are
	second.waitValue("eventwatch_records_observed_total", flow, 16)
	second.waitValue("eventwatch_records_checked_total", flow, 16)
	second.stop()
	assertPassive(t, c, "flow", 36)
}

// Status and the audit counters' SourceServices reflect a running sampler.
func TestSamplerStatusAndServices(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(2, "st"))
	h := newHarness(t, c, testConfig(), &fakeAuditor{})
	if st := h.s.Status(); st.Running || st.Generation != -1 {
		t.Errorf("before Run: %+v", st)
	}
	h.start()
	h.waitAssigned(2)
	produce(t, manualProducer(t, c), rec("st", 0, `{"event_id":"1","source":"b-svc"}`), rec("st", 1, `{"event_id":"2","source":"a-svc"}`))
	h.waitValue("eventwatch_records_checked_total", map[string]string{"topic": "st"}, 2)
	wait.For(t, "status refresh", func() bool { st := h.s.Status(); return st.Topics == 1 && st.Generation > 0 })
	st := h.s.Status()
	if !st.Running || st.LastPoll.IsZero() || st.LastRecord.IsZero() || st.LastError != "" {
		t.Errorf("running status: %+v", st)
	}
	if got := fmt.Sprint(h.counts.SourceServices()); got != "[a-svc b-svc]" {
		t.Errorf("SourceServices = %s, want [a-svc b-svc]", got)
	}
	h.stop()
	if st := h.s.Status(); st.Running || st.AssignedPartitions != 0 {
		t.Errorf("after stop: %+v", st)
	}
}

// start_from latest: what was produced before New is not sampled, what was
// produced between New and Run is, and so is a topic created later, from
// its first record.
func TestSamplerLatestStartsAtNew(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(2, "early"))
	pr := manualProducer(t, c)
	produce(t, pr, rec("early", 0, `{"event_id":"before-0"}`), rec("early", 1, `{"event_id":"before-1"}`))
	a := &fakeAuditor{}
	h := newHarness(t, c, testConfig(), a)
	produce(t, pr, rec("early", 0, `{"event_id":"between-0"}`), rec("early", 1, `{"event_id":"between-1"}`))
	h.start()
	h.waitAssigned(2)
	createTopic(t, pr, "later", 1)
	produce(t, pr, rec("later", 0, `{"event_id":"new"}`),
		rec("early", 0, `{"event_id":"after-0"}`), rec("early", 1, `{"event_id":"after-1"}`))

	wait.For(t, "the last records", func() bool { return a.saw("new") && a.saw("after-0") && a.saw("after-1") })
	for id, want := range map[string]bool{"before-0": false, "before-1": false, "between-0": true, "between-1": true} {
		if a.saw(id) != want {
			t.Errorf("checked %s = %v, want %v", id, a.saw(id), want)
		}
	}
	if got := h.value("eventwatch_records_observed_total", map[string]string{"topic": "early"}); got != 4 {
		t.Errorf("observed early = %v, want 4", got)
	}
}

// TestClientWhileRunning: Client gives nothing before Run (after waiting
// the time it is given), the sampling client while Run polls — one that
// answers another component's requests — and nothing once Run returned;
// a caller waiting when Run creates the client gets it at once.
func TestClientWhileRunning(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "orders"))
	h := newHarness(t, c, testConfig(), &fakeAuditor{})
	ctx := context.Background()
	if cl := h.s.Client(ctx, 10*time.Millisecond); cl != nil {
		t.Fatal("a client before Run")
	}
	got := make(chan *kgo.Client, 1)
	go func() { got <- h.s.Client(ctx, time.Minute) }()
	h.start()
	var cl *kgo.Client
	select {
	case cl = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("a caller waiting for the client did not get it within 30s of Run")
	}
	if cl == nil {
		t.Fatal("no client while Run polls")
	}
	if _, err := kadm.NewClient(cl).ListTopics(ctx); err != nil {
		t.Fatalf("a request on the sampling client: %v", err)
	}
	h.waitAssigned(1)
	h.stop()
	if cl := h.s.Client(ctx, 0); cl != nil {
		t.Fatal("a client after Run returned")
	}
}

// TestClientAfterRunReturned: once Run returned (here cancelled before
// its first poll), Client answers nil at once, however long it may wait
// (an hour here: a Client that waited would fail the test by its timeout).
func TestClientAfterRunReturned(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "orders"))
	h := newHarness(t, c, testConfig(), &fakeAuditor{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if cl := h.s.Client(context.Background(), time.Hour); cl != nil {
		t.Fatal("a client after Run returned")
	}
}
