package share

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"

	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

type doc struct {
	N int `json:"n"`
}

// startBoard runs a board on the cluster until the test ends.
func startBoard(t *testing.T, c *kfake.Cluster, id string) *Board {
	t.Helper()
	return startBoardWith(t, c, Config{ReplicaID: id, Interval: 100 * time.Millisecond, StaleAfter: time.Minute})
}

// startBoardWith runs a board of configuration cfg on the cluster until
// the test ends.
func startBoardWith(t *testing.T, c *kfake.Cluster, cfg Config) *Board {
	t.Helper()
	b, err := New(cfg,
		[]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// docs returns replica -> n of kind as b sees it.
func docs(b *Board, kind string) map[string]int {
	out := map[string]int{}
	for _, e := range b.Entries(kind) {
		var d doc
		if json.Unmarshal(e.Doc, &d) == nil {
			out[e.Replica] = d.N
		}
	}
	return out
}

func TestBoardsSeeEachOther(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	a, b := startBoard(t, c, "a"), startBoard(t, c, "b")
	ctx := context.Background()
	if err := a.Publish(ctx, "flows", doc{1}); err != nil {
		t.Fatal(err)
	}
	n := 0
	b.Provide("flows", func() (any, bool) { n++; return doc{10 + n}, true })
	wait.Within(t, 15*time.Second, "both documents on both boards", func() bool {
		da, db := docs(a, "flows"), docs(b, "flows")
		return da["a"] == 1 && da["b"] > 10 && db["a"] == 1 && db["b"] > 10
	})
	if got := a.Entries("flows"); !got[0].Self || got[1].Self || got[0].Replica != "a" {
		t.Errorf("entries on a = %+v, want a (self) then b", got)
	}

	// A board that starts later reads the whole state from the topic.
	late := startBoard(t, c, "late")
	wait.Within(t, 15*time.Second, "late board synced", late.Synced)
	if got := docs(late, "flows"); got["a"] != 1 || got["b"] <= 10 {
		t.Errorf("late board sees %v, want a=1 and b>10", got)
	}

	// A tombstone removes a replica's document everywhere.
	if err := a.Delete(ctx, "flows"); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 15*time.Second, "tombstone applied", func() bool { _, ok := docs(late, "flows")["a"]; return !ok })
}

func TestBoardMarksStaleAndNewest(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	a, b := startBoard(t, c, "a"), startBoard(t, c, "b")
	ctx := context.Background()
	base := time.Now()
	a.now = func() time.Time { return base.Add(-2 * time.Minute) } // a's clock: long ago
	if err := a.Publish(ctx, "groups", doc{1}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "groups", doc{2}); err != nil {
		t.Fatal(err)
	}
	wait.Within(t, 15*time.Second, "b sees a", func() bool { return len(b.Entries("groups")) == 2 })
	for _, e := range b.Entries("groups") {
		if e.Stale != (e.Replica == "a") {
			t.Errorf("%s stale = %t, want %t", e.Replica, e.Stale, e.Replica == "a")
		}
	}
	if e, ok := b.Newest("groups"); !ok || e.Replica != "b" {
		t.Errorf("newest = %+v, want b's", e)
	}
}

func TestPublishFailsWhileKafkaUnreachable(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	reg := prometheus.NewRegistry()
	b, err := New(Config{ReplicaID: "x"}, []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// Run was never started: the topic is not known to exist, so Publish
	// gives up at its deadline and counts the failure.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := b.Publish(ctx, "flows", doc{1}); err == nil {
		t.Fatal("publish succeeded before the topic was ensured")
	}
	mfs, _ := reg.Gather()
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "eventwatch_share_publish_errors_total" && mf.GetMetric()[0].GetCounter().GetValue() == 1 {
			found = true
		}
	}
	if !found {
		t.Error("eventwatch_share_publish_errors_total{kind=\"flows\"} is not 1")
	}
	b.cl.Close()
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{ReplicaID: "a/b"}, "share.replica_id"},
		{Config{Interval: time.Millisecond}, "share.interval"},
		{Config{Interval: time.Minute, StaleAfter: time.Second}, "share.stale_after"},
		{Config{ReplicationFactor: -2}, "share.replication_factor"},
	} {
		tc.cfg.SetDefaults()
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	var ok Config
	ok.SetDefaults()
	if err := ok.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	if id := ok.replicaID(); id == "" || id == ok.replicaID() {
		t.Errorf("default replica ids %q are not unique per process", id)
	}
}

// TestQuietKindsBeatTogether: the heads of a quiet replica's kinds,
// written at different moments, published by hand or provided, come to
// beat together: written in one produce call per heartbeat (one call per
// kind before, and they never aligned), every head at every beat.
func TestQuietKindsBeatTogether(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	var counting atomic.Bool
	var records atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if counting.Load() {
			for _, tp := range req.(*kmsg.ProduceRequest).Topics {
				for _, p := range tp.Partitions {
					var batch kmsg.RecordBatch
					if len(p.Records) > 0 && batch.ReadFrom(p.Records) == nil {
						records.Add(int64(batch.NumRecords))
					}
				}
			}
		}
		return nil, nil, false
	})
	b := startBoardWith(t, c, Config{ReplicaID: "a", Interval: 100 * time.Millisecond, StaleAfter: 1800 * time.Millisecond})
	ctx := context.Background()
	wait.Within(t, 15*time.Second, "board synced", b.Synced)
	// one kind published by hand, two provided (published every interval,
	// unchanged after the first): three heads written at three moments
	kinds := []string{"flows", "readers", "asyncapi"}
	if err := b.Publish(ctx, kinds[0], doc{0}); err != nil {
		t.Fatal(err)
	}
	for i, k := range kinds[1:] {
		time.Sleep(150 * time.Millisecond)
		b.Provide(k, func() (any, bool) { return doc{i + 1}, true })
	}
	// headAt is the time of the heads' last write when all three were
	// written together, zero while they were not
	headAt := func() time.Time {
		b.pubMu.Lock()
		defer b.pubMu.Unlock()
		var at time.Time
		for _, k := range kinds {
			st := b.pub[k]
			if st == nil || st.head == nil || (!at.IsZero() && !st.headAt.Equal(at)) {
				return time.Time{}
			}
			at = st.headAt
		}
		return at
	}
	wait.Within(t, 15*time.Second, "the three heads beat together", func() bool { return !headAt().IsZero() })
	counting.Store(true)
	beats := map[time.Time]bool{}
	for end := time.Now().Add(4 * b.heartbeat()); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		at := headAt()
		if at.IsZero() {
			t.Fatal("the heads of the quiet kinds were written apart again")
		}
		beats[at] = true
	}
	counting.Store(false)
	time.Sleep(50 * time.Millisecond) // a beat written as counting stopped
	n := len(beats) - 1               // the first: written before counting
	if n < 2 || n > 5 {
		t.Fatalf("%d beats over four heartbeats, want about four", n)
	}
	if r := records.Load(); r < int64(len(kinds)*n) || r > int64(len(kinds)*(n+1)) {
		t.Errorf("%d head records written over %d beats, want all %d heads at every beat", r, n, len(kinds))
	}
}

// snappyCodec is snappy's number in a record batch's attributes (the
// Kafka protocol: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
const snappyCodec = 2

// TestSharedBatchesAreSnappy reads the state topic's batches as another
// client would: the board writes them compressed with snappy (no encoder
// state kept between publications), never zstd, whose encoder stayed ≈ 3
// MB in the leader's heap (docs/performance/lag.md, "Eleventh round").
func TestSharedBatchesAreSnappy(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	b := startBoard(t, c, "a")
	// compressible: franz-go writes a batch that would not shrink as it is
	big := map[string]string{"pathway": strings.Repeat("orders.placed -> billing.charged; ", 64)}
	if err := b.Publish(context.Background(), "flows", big); err != nil {
		t.Fatal(err)
	}
	cl := kfaketest.Client(t, c, kgo.ConsumeTopics(b.cfg.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	seen := 0
	for seen == 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if len(r.Value) < 1000 {
				return // the head: too small to compress
			}
			seen++
			if codec := r.Attrs.CompressionType(); codec != snappyCodec {
				t.Errorf("record %q written with codec %d, want %d (snappy)", r.Key, codec, snappyCodec)
			}
		})
	}
	if seen == 0 {
		t.Fatal("no record read from the state topic")
	}
}
