package sample

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// Above the per-partition budget records are sampled: observed stays exact,
// checked stops at the budget (the clock is frozen, so the token bucket
// never refills), and checked + skipped = observed.
func TestSamplerBudgetSamplesUnderLoad(t *testing.T) {
	c, h := busyHarness(t)
	h.start()
	h.waitAssigned(2) // start_from latest: what is produced from now on is sampled

	pr := manualProducer(t, c)
	produce(t, pr, busyRecords(2000)...)

	busy := map[string]string{"topic": "busy"}
	h.waitValue("eventwatch_records_observed_total", busy, 2000)
	h.waitValue("eventwatch_records_checked_total", busy, 100)
	if got := h.value("eventwatch_sampler_skipped_records_total", busy); got != 1900 {
		t.Errorf("skipped = %v, want 1900", got)
	}
}

// Every compression codec is read, counted and audited.
func TestSamplerCompressionCodecs(t *testing.T) {
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	var topics []string
	for name := range codecs {
		topics = append(topics, "codec-"+name)
	}
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, topics...))
	a := &fakeAuditor{}
	h := newHarness(t, c, testConfig(), a).start()
	h.waitAssigned(5) // start_from latest: what is produced from now on is sampled
	for name, codec := range codecs {
		pr := manualProducer(t, c, kgo.ProducerBatchCompression(codec))
		var recs []*kgo.Record
		for i := range 50 {
			v := fmt.Sprintf(`{"event_id":"%d","pad":"%s"}`, i, strings.Repeat("x", 200))
			if i%10 == 0 {
				v = `{"missing":"id"}`
			}
			recs = append(recs, rec("codec-"+name, 0, v))
		}
		produce(t, pr, recs...)
	}
	for name := range codecs {
		topic := map[string]string{"topic": "codec-" + name}
		h.waitValue("eventwatch_records_checked_total", topic, 50)
		if got := h.value("eventwatch_records_compliant_total", topic); got != 45 {
			t.Errorf("%s: compliant = %v, want 45", name, got)
		}
		if got := h.value("eventwatch_records_observed_total", topic); got != 50 {
			t.Errorf("%s: observed = %v, want 50", name, got)
		}
	}
}

// Bad input never stops the partition: tombstones, binary junk, hundreds of
// headers and a 10 MB value are all observed and audited, and the record
// after them too.
func TestSamplerBadInput(t *testing.T) {
	const big = 10 << 20
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "bad"),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": fmt.Sprint(16 << 20)}))
	a := &fakeAuditor{}
	h := newHarness(t, c, testConfig(), a).start()
	h.waitAssigned(1) // start_from latest: what is produced from now on is sampled

	pr := manualProducer(t, c, kgo.ProducerBatchMaxBytes(16<<20), kgo.MaxBufferedBytes(64<<20))
	headers := make([]kgo.RecordHeader, 300)
	for i := range headers {
		headers[i] = kgo.RecordHeader{Key: fmt.Sprintf("h%d", i), Value: []byte("v")}
	}
	junk := bytes.Repeat([]byte{0x00, 0xff, 0xc3, 0x28}, 64)
	produce(t, pr,
		&kgo.Record{Topic: "bad", Key: []byte("k1")}, // tombstone
		&kgo.Record{Topic: "bad", Value: junk},
		&kgo.Record{Topic: "bad", Value: []byte(`{"event_id":"x"}`), Headers: headers},
		&kgo.Record{Topic: "bad", Value: []byte(`{"event_id":`)}, // truncated
	)
	produce(t, pr, &kgo.Record{Topic: "bad", Value: bytes.Repeat([]byte("a"), big)})
	produce(t, pr, &kgo.Record{Topic: "bad", Value: []byte(`{"event_id":"after"}`)})

	topic := map[string]string{"topic": "bad"}
	h.waitValue("eventwatch_records_checked_total", topic, 6)
	if got := h.value("eventwatch_records_observed_total", topic); got != 6 {
		t.Errorf("observed = %v, want 6", got)
	}
	if got := h.value("eventwatch_records_compliant_total", topic); got != 3 {
		t.Errorf("compliant = %v, want 3 (tombstone, headers record, last record)", got)
	}
	if got := h.value("eventwatch_violations_total", map[string]string{"rule": "envelope.invalid_json"}); got != 3 {
		t.Errorf("invalid_json violations = %v, want 3", got)
	}
	if got := a.tombstones.Load(); got != 1 {
		t.Errorf("auditor saw %d tombstones, want 1", got)
	}
	if got := a.maxHeaders.Load(); got != 300 {
		t.Errorf("auditor saw at most %d headers, want 300", got)
	}
	if got := a.maxValue.Load(); got != big {
		t.Errorf("auditor saw a largest value of %d bytes, want %d", got, big)
	}
}

// A batch that would decompress past the bound is skipped (observed and
// dropped), and the partition moves on to the next batch.
func TestSamplerSkipsBatchTooLargeToDecompress(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "bomb"))
	cfg := testConfig()
	cfg.MaxDecompressBytes = 64 << 10
	h := newHarness(t, c, cfg, &fakeAuditor{}).start()
	h.waitAssigned(1) // start_from latest: what is produced from now on is sampled

	pr := manualProducer(t, c, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	var recs []*kgo.Record
	for range 500 {
		recs = append(recs, &kgo.Record{Topic: "bomb", Value: make([]byte, 1024)})
	}
	produce(t, pr, recs...)
	produce(t, pr, rec("bomb", 0, `{"event_id":"after"}`))

	topic := map[string]string{"topic": "bomb"}
	h.waitValue("eventwatch_records_checked_total", topic, 1)
	h.waitValue("eventwatch_records_observed_total", topic, 501)
	if got := h.value("eventwatch_sampler_dropped_records_total", map[string]string{"reason": DropDecompressTooBig}); got != 500 {
		t.Errorf("dropped decompress_too_large = %v, want 500", got)
	}
}

// panicAuditor panics on values starting with "boom" and passes the rest to
// fakeAuditor.
type panicAuditor struct{ fakeAuditor }

func (p *panicAuditor) Check(r *event.Record) event.Result {
	if bytes.HasPrefix(r.Value, []byte("boom")) {
		var none []byte
		_ = none[len(r.Value)] // a real runtime panic: index out of range
	}
	return p.fakeAuditor.Check(r)
}

// panicSink panics on every record.
type panicSink struct{}

func (panicSink) Observe(*event.Record, *event.Result) { panic("sink bug") }

// A panicking auditor or sink costs that record, never the sampler.
func TestSamplerSurvivesPanics(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "p"))
	sink := &countingSink{}
	h := newHarness(t, c, testConfig(), &panicAuditor{}, panicSink{}, sink).start()
	h.waitAssigned(1) // start_from latest: what is produced from now on is sampled
	pr := manualProducer(t, c)
	produce(t, pr, rec("p", 0, "boom1"), rec("p", 0, `{"event_id":"1"}`), rec("p", 0, "boom2"), rec("p", 0, `{"event_id":"2"}`))

	topic := map[string]string{"topic": "p"}
	h.waitValue("eventwatch_records_checked_total", topic, 2)
	h.waitValue("eventwatch_sampler_dropped_records_total", map[string]string{"reason": DropAuditPanic}, 2)
	h.waitValue("eventwatch_sampler_errors_total", map[string]string{"op": "sink"}, 2)
	if got := h.value("eventwatch_records_observed_total", topic); got != 4 {
		t.Errorf("observed = %v, want 4", got)
	}
	if got := sink.n.Load(); got != 2 {
		t.Errorf("the sink after the panicking one saw %d records, want 2", got)
	}
}

// timesRecorder is a RecordTimes that remembers what it was handed.
type timesRecorder struct {
	mu   sync.Mutex
	offs map[int32][]int64
	ts   map[int32][]time.Time
}

func (r *timesRecorder) NoteRecords(_ string, p int32, recs []*kgo.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		r.offs[p] = append(r.offs[p], rec.Offset)
		r.ts[p] = append(r.ts[p], rec.Timestamp)
	}
}

func (r *timesRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, o := range r.offs {
		n += len(o)
	}
	return n
}

// TestSamplerNotesEveryRecordTime: WithRecordTimes is handed every
// fetched record — the 1,900 the budget skips too — in offset order per
// partition, with the timestamp the producer gave it (what the lag
// collector's exact time lag reads from it, lag.SeenTimes).
func TestSamplerNotesEveryRecordTime(t *testing.T) {
	c, h := busyHarness(t)
	times := &timesRecorder{offs: map[int32][]int64{}, ts: map[int32][]time.Time{}}
	WithRecordTimes(times)(h.s)
	h.start()
	h.waitAssigned(2)

	pr := manualProducer(t, c)
	base := time.UnixMilli(time.Now().UnixMilli()).Add(-time.Hour)
	recs := busyRecords(2000)
	for i, r := range recs {
		r.Timestamp = base.Add(time.Duration(i) * time.Millisecond)
	}
	produce(t, pr, recs...)
	h.waitValue("eventwatch_records_observed_total", map[string]string{"topic": "busy"}, 2000)
	wait.For(t, "2000 record times noted", func() bool { return times.count() >= 2000 })
	times.mu.Lock()
	defer times.mu.Unlock()
	for p := range int32(2) {
		offs, ts := times.offs[p], times.ts[p]
		if len(offs) != 1000 {
			t.Fatalf("partition %d: %d records noted, want 1000", p, len(offs))
		}
		for i, o := range offs {
			if want := base.Add(time.Duration(2*i+int(p)) * time.Millisecond); o != int64(i) || !ts[i].Equal(want) {
				t.Fatalf("partition %d record %d: offset %d at %v, want offset %d at %v", p, i, o, ts[i], i, want)
			}
		}
	}
}

// busyHarness is a sampler, not yet running, on a new cluster with topic
// "busy" (2 partitions): it audits 50 records a partition and its clock is
// frozen, so the token bucket never refills.
func busyHarness(t *testing.T) (*kfake.Cluster, *harness) {
	t.Helper()
	c := kfaketest.Cluster(t, kfake.SeedTopics(2, "busy"))
	cfg := testConfig()
	cfg.BudgetPerPartition = 50
	h := newHarness(t, c, cfg, &fakeAuditor{})
	frozen := time.Now()
	h.s.now = func() time.Time { return frozen }
	return c, h
}

// busyRecords are n records to "busy", alternating its two partitions,
// the i-th with event id i.
func busyRecords(n int) []*kgo.Record {
	recs := make([]*kgo.Record, 0, n)
	for i := range n {
		recs = append(recs, rec("busy", int32(i%2), fmt.Sprintf(`{"event_id":"%d"}`, i)))
	}
	return recs
}
