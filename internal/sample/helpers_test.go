package sample

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/recordmetrics"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// fakeAuditor flags values that are not JSON objects (envelope.invalid_json)
// and objects without "event_id" (envelope.missing_field), reads "source"
// into Result.Source, and remembers the largest value and header count seen.
// block, when set, is received from before each check (a slow auditor).
type fakeAuditor struct {
	block      chan struct{}
	checks     atomic.Int64
	maxValue   atomic.Int64
	maxHeaders atomic.Int64
	tombstones atomic.Int64
	seen       sync.Map // event ids checked
}

// saw reports whether a record with this event id was checked.
func (f *fakeAuditor) saw(id string) bool {
	_, ok := f.seen.Load(id)
	return ok
}

func (f *fakeAuditor) Check(rec *event.Record) event.Result {
	if f.block != nil {
		<-f.block
	}
	f.checks.Add(1)
	storeMax(&f.maxValue, int64(len(rec.Value)))
	storeMax(&f.maxHeaders, int64(len(rec.Headers)))
	res := event.Result{Size: len(rec.Value)}
	if rec.Value == nil {
		f.tombstones.Add(1)
		res.Tombstone = true
		return res
	}
	var v map[string]any
	if err := json.Unmarshal(rec.Value, &v); err != nil {
		res.Violations = append(res.Violations, event.Violation{Rule: "envelope.invalid_json", Severity: event.SeverityError})
		return res
	}
	res.Source, _ = v["source"].(string)
	if id, ok := v["event_id"].(string); ok {
		f.seen.Store(id, true)
	}
	if _, ok := v["event_id"]; !ok {
		res.Violations = append(res.Violations, event.Violation{Rule: "envelope.missing_field", Severity: event.SeverityError, Field: "event_id"})
	}
	return res
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// countingSink counts Observe calls.
type countingSink struct{ n atomic.Int64 }

func (c *countingSink) Observe(*event.Record, *event.Result) { c.n.Add(1) }

// harness is a running sampler against a kfake cluster. Like the daemon,
// it hands the sampler the audit counters (recordmetrics.Counters) as its first
// sink, on the same registry.
type harness struct {
	t       *testing.T
	c       *kfake.Cluster
	reg     *prometheus.Registry
	s       *Sampler
	counts  *recordmetrics.Counters
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// testConfig is a default config tuned for fast tests.
func testConfig() Config {
	var cfg Config
	cfg.SetDefaults()
	cfg.MetadataRefresh = time.Second
	cfg.CommitInterval = 200 * time.Millisecond
	cfg.BudgetPerPartition = 1e6
	cfg.Workers = 2
	return cfg
}

// newHarness creates a sampler (not yet running) for cluster c.
func newHarness(t *testing.T, c *kfake.Cluster, cfg Config, a Auditor, sinks ...event.Sink) *harness {
	t.Helper()
	return newHarnessOpts(t, c, cfg, a, nil, sinks...)
}

// newHarnessOpts is newHarness with extra client options.
func newHarnessOpts(t *testing.T, c *kfake.Cluster, cfg Config, a Auditor, extra []kgo.Opt, sinks ...event.Sink) *harness {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	base := append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.ClientID("eventwatch-test")}, extra...)
	counts := recordmetrics.NewCounters(reg, cfg.MaxSourceServices)
	s, err := New(cfg, base, a, append([]event.Sink{counts}, sinks...), reg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &harness{t: t, c: c, reg: reg, s: s, counts: counts}
}

// start runs the sampler until stop or the end of the test.
func (h *harness) start() *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.s.Run(ctx) }()
	h.t.Cleanup(h.stop)
	return h
}

// stop cancels Run and waits for it to return (commit and leave included).
func (h *harness) stop() {
	if h.stopped {
		return
	}
	h.stopped = true
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Errorf("Run did not return within 30s of cancel")
	}
}

// waitAssigned waits until the sampler owns at least n partitions.
func (h *harness) waitAssigned(n int) {
	h.t.Helper()
	wait.For(h.t, "partitions assigned", func() bool { return h.s.Status().AssignedPartitions >= n })
}

// value sums the samples of metric name whose labels include want.
func (h *harness) value(name string, want map[string]string) float64 {
	h.t.Helper()
	return metricstest.Value(h.t, h.reg, name, want)
}

// waitValue waits until metric name (labels want) reaches v.
func (h *harness) waitValue(name string, want map[string]string, v float64) {
	h.t.Helper()
	wait.Describe(h.t, wait.Default, func() string {
		return fmt.Sprintf("%s%v to reach %v (it is %v)", name, want, v, h.value(name, want))
	}, func() bool { return h.value(name, want) >= v })
	if got := h.value(name, want); got != v {
		h.t.Fatalf("%s%v = %v, want %v", name, want, got, v)
	}
}

// produce writes records synchronously, failing the test on error.
func produce(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// createTopic creates topic with n partitions.
func createTopic(t *testing.T, cl *kgo.Client, topic string, n int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, n, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

func rec(topic string, partition int32, value string) *kgo.Record {
	r := &kgo.Record{Topic: topic, Partition: partition}
	if value != "" {
		r.Value = []byte(value)
	}
	return r
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// manualProducer returns a producer that keeps records on the partition the test chose.
func manualProducer(t *testing.T, c *kfake.Cluster, opts ...kgo.Opt) *kgo.Client {
	all := append([]kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)
	return kfaketest.Client(t, c, all...)
}
