package sample

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// fakeLedger records what the sampler tells a ledger; positions are what
// it claims to have stored.
// newFakeLedger is a fakeLedger holding positions (nil: none stored),
// started when the group watched before.
func newFakeLedger(started bool, positions map[string]map[int32]int64) *fakeLedger {
	if positions == nil {
		positions = map[string]map[int32]int64{}
	}
	return &fakeLedger{started: started, positions: positions, acquired: map[int32]int64{},
		ranges: map[int32][][2]int64{}, observed: map[int32][]int64{}}
}

// ledgerSampler is a sampler on c with cfg that stores through l.
func ledgerSampler(t *testing.T, c *kfake.Cluster, cfg Config, l *fakeLedger) (*Sampler, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(cfg, []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, &fakeAuditor{}, []event.Sink{l}, reg,
		slog.New(slog.DiscardHandler), WithLedger(l))
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

type fakeLedger struct {
	mu        sync.Mutex
	positions map[string]map[int32]int64
	acquired  map[int32]int64
	ranges    map[int32][][2]int64
	observed  map[int32][]int64
	saturated bool
	started   bool                 // the group started watching before
	inits     map[int32]int64      // positions stored at first sight
	resets    []store.PositionNote // positions reset because they did not match the log
	open      map[int32][]int64    // offsets observed since the partition's last Advance or Acquire
	breaches  []string             // where the sampler broke the ledger protocol (internal/ledger doc.go, "Protocol")
}

func (f *fakeLedger) Started(context.Context) (bool, map[string]map[int32]int64, error) {
	return f.started, nil, nil
}

func (f *fakeLedger) Start(_ context.Context, ps []store.Position, _ []store.PositionNote) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = true
	for _, p := range ps {
		f.setInit(p)
	}
	return true, nil
}

func (f *fakeLedger) Init(_ context.Context, ps []store.Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range ps {
		f.setInit(p)
	}
	return nil
}

// setInit stores p unless a position is stored; f.mu held.
func (f *fakeLedger) setInit(p store.Position) {
	if f.inits == nil {
		f.inits = map[int32]int64{}
	}
	if _, ok := f.positions[p.Topic][p.Partition]; !ok {
		f.inits[p.Partition] = p.Offset
	}
}

func (f *fakeLedger) Reset(_ context.Context, n store.PositionNote) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = append(f.resets, n)
	return true, nil
}

func (f *fakeLedger) Positions(context.Context) (map[string]map[int32]int64, error) {
	return f.positions, nil
}

func (f *fakeLedger) Acquire(_ string, p int32, from int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acquired[p] = from
	delete(f.open, p)
}

// Advance records the range and checks the ledger protocol: the records
// observed since the previous Advance are all in [from, to), in
// increasing offset order.
func (f *fakeLedger) Advance(_ string, p int32, from, to int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ranges[p] = append(f.ranges[p], [2]int64{from, to})
	last := from - 1
	for _, o := range f.open[p] {
		if o <= last || o >= to {
			f.breaches = append(f.breaches, fmt.Sprintf("partition %d: range [%d, %d) closes offsets %v", p, from, to, f.open[p]))
			break
		}
		last = o
	}
	delete(f.open, p)
}

func (f *fakeLedger) Release(_ context.Context, tps map[string][]int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ps := range tps {
		for _, p := range ps {
			delete(f.open, p)
		}
	}
}

// protocolKept fails t when the sampler broke the ledger protocol.
func (f *fakeLedger) protocolKept(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.breaches) > 0 {
		t.Errorf("the sampler broke the ledger protocol: %v", f.breaches)
	}
}

func (f *fakeLedger) Saturated() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.saturated
}

func (f *fakeLedger) Observe(rec *event.Record, _ *event.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.observed[rec.Partition] = append(f.observed[rec.Partition], rec.Offset)
	if f.open == nil {
		f.open = map[int32][]int64{}
	}
	f.open[rec.Partition] = append(f.open[rec.Partition], rec.Offset)
}

func (f *fakeLedger) end(p int32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.ranges[p]
	if len(r) == 0 {
		return -1
	}
	return r[len(r)-1][1]
}

// TestLedgerResumesFromStoredPosition: with a ledger, a partition resumes
// at the stored position (not the group's Kafka commit or start_from), no
// record below it is audited, every record at or above it is delivered in
// order, and the Advance ranges chain from the stored position without a
// gap; a saturated ledger pauses fetching.
func TestLedgerResumesFromStoredPosition(t *testing.T) {
	const topic = "resume"
	c := kfaketest.Cluster(t, kfake.SeedTopics(2, topic))
	cl := manualProducer(t, c)
	for i := range 20 {
		produce(t, cl, rec(topic, int32(i%2), `{"event_id":"x"}`))
	}
	l := newFakeLedger(true, map[string]map[int32]int64{topic: {0: 4}})
	cfg := testConfig()
	cfg.StartFrom = StartEarliest
	s, reg := ledgerSampler(t, c, cfg, l)
	h := (&harness{t: t, c: c, reg: reg, s: s}).start()
	wait.For(t, "both partitions read to their end", func() bool { return l.end(0) == 10 && l.end(1) == 10 })
	l.mu.Lock()
	if l.acquired[0] != 4 || l.acquired[1] != 0 {
		t.Errorf("acquired from %v, want 0@4 (stored) and 1@0 (none stored: new, from its log start)", l.acquired)
	}
	if _, ok := l.inits[0]; ok || l.inits[1] != 0 {
		t.Errorf("positions stored at first sight %v, want only 1@0", l.inits)
	}
	for p, first := range map[int32]int64{0: 4, 1: 0} {
		want := first
		for _, o := range l.observed[p] {
			if o != want {
				t.Fatalf("partition %d: audited offsets %v, want %d..9 in order", p, l.observed[p], first)
			}
			want++
		}
		next := first
		for _, r := range l.ranges[p] {
			if r[0] != next {
				t.Fatalf("partition %d: ranges %v do not chain from %d", p, l.ranges[p], first)
			}
			next = r[1]
		}
	}
	l.saturated = true
	l.mu.Unlock()
	wait.For(t, "fetching paused", func() bool { return h.s.Status().Paused })
	if got := h.value("eventwatch_sampler_paused", nil); got != 1 {
		t.Errorf("eventwatch_sampler_paused = %v, want 1", got)
	}
	for range 7 {
		produce(t, cl, rec(topic, 1, `{"event_id":"y"}`))
	}
	// While paused no fetch brings high watermarks: the lag gauge comes
	// from listed end offsets and what was read, and stays true.
	h.waitValue("eventwatch_sampler_lag_records", map[string]string{"topic": topic}, 7)
	l.mu.Lock()
	l.saturated = false
	l.mu.Unlock()
	wait.For(t, "the records produced while paused, after resuming", func() bool { return l.end(1) == 17 })
	l.protocolKept(t)
}
