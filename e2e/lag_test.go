//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// TestLagRealKafka runs the lag collector against a real Kafka 4.1 broker
// with a classic group, a KIP-848 group and a stopped consumer on the same
// topic, and a dead-letter topic fed during the test. Expected lag comes
// from what the test produced and what the consumers committed.
func TestLagRealKafka(t *testing.T) {
	b := realkafka.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	const topic, dlq = "orders.placed", "orders.deadletter"
	admCl := b.Client(t)
	adm := kadm.NewClient(admCl)
	lagCreateTopic(ctx, t, adm, topic, 2, nil)
	lagCreateTopic(ctx, t, adm, dlq, 1, map[string]*string{"retention.ms": kadm.StringPtr("604800000")})
	producer := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	firstProduce := time.Now()
	lagProduce(ctx, t, producer, topic, 15) // 15 per partition: end offsets 15, 15

	classic := lagConsumer(ctx, t, b, "lag-classic", topic, 30)
	nextgen := lagConsumer(ctx, t, b, "lag-nextgen", topic, 30, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))
	stopped := lagConsumer(ctx, t, b, "lag-stopped", topic, 30)
	stopped.Close() // leaves the group: Empty, offsets 15/15 stay committed

	reg := prometheus.NewRegistry()
	exp := lag.Expectations{MinReplicationFactor: 3, MinBrokers: 3, DLQRetention: 30 * 24 * time.Hour,
		ProducingServices: func() []string { return []string{"orders"} }}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// stop_after of a millisecond: data waiting a cycle without progress is
	// STOP or STALL at once (the real-time scenarios are in lag_scenarios_test.go)
	c, err := lag.New(lag.Config{Interval: time.Second, StatusWindow: 3, StopAfter: time.Millisecond}, admCl, exp, reg, log,
		lag.WithRecordClient(b.Client(t)))
	if err != nil {
		t.Fatal(err)
	}
	collect := func(when string) *lag.Snapshot {
		t.Helper()
		if err := c.CollectOnce(ctx); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		return c.Snapshot()
	}
	collect("cycle 1")

	lagProduce(ctx, t, producer, topic, 6) // end offsets 21, 21: every group is 12 behind
	lagProduceN(ctx, t, producer, dlq, 0, 4)
	snap := collect("cycle 2")
	for _, g := range []struct {
		name, protocol string
		members        int
	}{
		{"lag-classic", lag.ProtocolClassic, 1}, {"lag-nextgen", lag.ProtocolConsumer, 1}, {"lag-stopped", lag.ProtocolClassic, 0},
	} {
		got, ok := snap.Group(g.name)
		if !ok {
			t.Fatalf("group %s missing from %+v", g.name, snap.Groups)
		}
		if got.Protocol != g.protocol || got.Members != g.members || got.LagRecords != 12 || got.Stale {
			t.Errorf("%s: protocol %q members %d lag %d stale %v (%s); want %s, %d members, lag 12",
				g.name, got.Protocol, got.Members, got.LagRecords, got.Stale, got.Error, g.protocol, g.members)
		}
		if s := float64(got.LagSeconds); !got.LagSeconds.Known() || s <= 0 || s > time.Since(firstProduce).Seconds() {
			t.Errorf("%s: lag seconds %v, want in (0, %.1f]", g.name, s, time.Since(firstProduce).Seconds())
		}
		t.Logf("%s: state %s lag %d (%.2fs) status %s/%s: %s", g.name, got.State, got.LagRecords, float64(got.LagSeconds), got.Status, got.Cause, got.Why)
	}
	wantDLQ := lag.DLQ{Topic: dlq, SourceService: "orders", DepthRecords: 4, Records: 4, NewRecords: 4, RetentionSeconds: 604800}
	if len(snap.DLQs) != 1 || snap.DLQs[0] != wantDLQ {
		t.Errorf("DLQs = %+v, want %+v", snap.DLQs, wantDLQ)
	}
	lagWantViolations(t, snap, "cluster.min_brokers cluster", "dlq.retention "+dlq, "topic.replication_factor "+topic)

	lagCheckOwnership(t, c)
	collect("cycle 3")
	snap = collect("cycle 4") // cycles 2-4: lag 12 and no commit by anyone
	lagWantStatus(t, snap, map[string][2]lag.Status{
		"lag-classic": {lag.StatusErr, lag.StatusStall}, "lag-nextgen": {lag.StatusErr, lag.StatusStall}, "lag-stopped": {lag.StatusErr, lag.StatusStop},
	})

	lagConsumeMore(ctx, t, classic, 12)
	lagConsumeMore(ctx, t, nextgen, 12)
	snap = collect("cycle 5")
	lagCheckLastCommit(t, c, map[string]time.Time{"lag-classic": snap.Time, "lag-nextgen": snap.Time, "lag-stopped": {}})
	lagProduceN(ctx, t, producer, dlq, 0, 1)
	snap = collect("cycle 6")
	lagWantStatus(t, snap, map[string][2]lag.Status{
		"lag-classic": {lag.StatusOK, lag.StatusOK}, "lag-nextgen": {lag.StatusOK, lag.StatusOK}, "lag-stopped": {lag.StatusErr, lag.StatusStop},
	})
	if d := snap.DLQs; len(d) != 1 || d[0].DepthRecords != 5 || d[0].NewRecords != 1 {
		t.Errorf("DLQ after one more record = %+v, want depth 5 and 1 new over the window (cycles 4-6)", d)
	}

	want := `
# HELP eventwatch_consumergroup_lag_records Records a consumer group still has to read on a topic (sum over partitions of end offset minus committed offset, never negative).
# TYPE eventwatch_consumergroup_lag_records gauge
eventwatch_consumergroup_lag_records{group="lag-classic",topic="orders.placed"} 0
eventwatch_consumergroup_lag_records{group="lag-nextgen",topic="orders.placed"} 0
eventwatch_consumergroup_lag_records{group="lag-stopped",topic="orders.placed"} 12
# HELP eventwatch_dlq_depth_records Records currently held by a dead-letter topic (end offset minus start offset).
# TYPE eventwatch_dlq_depth_records gauge
eventwatch_dlq_depth_records{source_service="orders",topic="orders.deadletter"} 5
`
	scraped := lagScraper{lag.MetricsHandler(reg, func() *lag.Collector { return c }, nil)}
	if err := testutil.GatherAndCompare(scraped, strings.NewReader(want), "eventwatch_consumergroup_lag_records", "eventwatch_dlq_depth_records"); err != nil {
		t.Error(err)
	}
	lagCheckAPI(t, c)
	lagCheckCommitRecency(ctx, t, b, adm, producer)
}

// lagCheckLastCommit checks when each group's committed offsets last
// changed, as the collector saw it (zero: not since it started watching).
func lagCheckLastCommit(t *testing.T, c *lag.Collector, want map[string]time.Time) {
	t.Helper()
	for group, at := range want {
		g, _ := c.GroupDetail(group)
		for _, tl := range g.Topics {
			for _, p := range tl.Partitions {
				if !p.LastCommit.Equal(at) {
					t.Errorf("%s %s/%d: last_commit %v, want %v", group, tl.Topic, p.Partition, p.LastCommit, at)
				}
			}
		}
	}
}

// lagCheckCommitRecency is Burrow's issue #290 on a real broker in real
// time: a consumer that reads to the end and commits for three cycles, then
// leaves while records keep arriving, is STOP once the first record it did
// not read has waited lag.stop_after (2 s here) — although it was caught
// up inside the status window.
func lagCheckCommitRecency(ctx context.Context, t *testing.T, b *realkafka.Broker, adm *kadm.Client, producer *kgo.Client) {
	t.Helper()
	const topic, group = "recency.events", "lag-recency"
	lagCreateTopic(ctx, t, adm, topic, 1, nil)
	lagProduceN(ctx, t, producer, topic, 0, 5)
	consumer := lagConsumer(ctx, t, b, group, topic, 5)
	c, err := lag.New(lag.Config{Interval: time.Second, StatusWindow: 6, GroupsInclude: []string{group}, StopAfter: 2 * time.Second},
		b.Client(t), lag.Expectations{}, prometheus.NewRegistry(), nil, lag.WithRecordClient(b.Client(t)))
	if err != nil {
		t.Fatal(err)
	}
	var lastCommitCycle, cycleStart time.Time
	for i := range 8 {
		if i > 0 {
			lagProduceN(ctx, t, producer, topic, 0, 5)
		}
		if i > 0 && i < 4 {
			lagConsumeMore(ctx, t, consumer, 5) // reads to the end and commits
		}
		if i == 4 {
			consumer.Close() // leaves the group: nobody owns the partition
		}
		// This waits out wall time on purpose: what is judged is how long
		// records the real broker timestamped have waited by the
		// collector's clock (time lag against lag.stop_after), so cycles
		// must be spaced in real time; lag.WithClock would put the
		// collector's clock out of step with those timestamps. Each cycle
		// starts at least 1.5 s after the previous one however long
		// producing and consuming took (a fixed schedule from the start
		// would bunch cycles together after a slow step on a loaded
		// machine), so cycle 8 comes 4.5 s or more after the first record
		// the consumer never read.
		if i > 0 {
			time.Sleep(time.Until(cycleStart.Add(1500 * time.Millisecond)))
		}
		cycleStart = time.Now()
		if err := c.CollectOnce(ctx); err != nil {
			t.Fatalf("recency cycle %d: %v", i+1, err)
		}
		if i == 3 {
			lastCommitCycle = c.Snapshot().Time
		}
		if g, ok := c.GroupDetail(group); ok && len(g.Topics) == 1 {
			p := g.Topics[0].Partitions[0]
			t.Logf("recency cycle %d at %s: committed %d end %d status %s last_commit %s", i+1,
				c.Snapshot().Time.Format("15:04:05.000"), p.Committed, p.End, p.Status, p.LastCommit.Format("15:04:05.000"))
		}
	}
	// Cycle 8: the window (cycles 3-8) holds a caught-up sample (cycle 4,
	// the last commit), but the records produced since have waited 4.5 s
	// or more, longer than stop_after.
	g, _ := c.GroupDetail(group)
	if g.Status != lag.StatusErr || g.Cause != lag.StatusStop || g.LagRecords != 20 || g.MaxLag == nil || g.MaxLag.LagRecords != 20 {
		t.Fatalf("%s after its commits stopped = %s/%s lag %d max %+v (%s), want ERR/STOP with lag 20", group, g.Status, g.Cause, g.LagRecords, g.MaxLag, g.Why)
	}
	lagCheckLastCommit(t, c, map[string]time.Time{group: lastCommitCycle})
}

// lagScraper gathers by scraping a /metrics handler and parsing the text.
type lagScraper struct{ h http.Handler }

// Gather scrapes the handler and parses what it served, sorted as a
// registry sorts.
func (s lagScraper) Gather() ([]*dto.MetricFamily, error) {
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	parser := expfmt.NewTextParser(model.LegacyValidation)
	byName, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		return nil, fmt.Errorf("parse scrape: %w", err)
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		mf := byName[name]
		slices.SortFunc(mf.Metric, func(a, b *dto.Metric) int { return strings.Compare(mf2key(a), mf2key(b)) })
		out = append(out, mf)
	}
	return out, nil
}

func mf2key(m *dto.Metric) string {
	var b strings.Builder
	for _, lp := range m.GetLabel() {
		b.WriteString(lp.GetValue())
		b.WriteByte(0)
	}
	return b.String()
}

// lagCheckOwnership checks that the live members own their partitions (for
// the KIP-848 group this relies on the broker naming the topics of the
// ConsumerGroupDescribe assignment) and the stopped group owns none.
func lagCheckOwnership(t *testing.T, c *lag.Collector) {
	t.Helper()
	for group, want := range map[string]bool{"lag-classic": true, "lag-nextgen": true, "lag-stopped": false} {
		g, ok := c.GroupDetail(group)
		if !ok || len(g.Topics) != 1 || len(g.Topics[0].Partitions) != 2 {
			t.Fatalf("%s detail = %+v, want one topic with 2 partitions", group, g)
		}
		for _, p := range g.Topics[0].Partitions {
			if p.Owned != want {
				t.Errorf("%s partition %d owned = %v, want %v", group, p.Partition, p.Owned, want)
			}
		}
	}
}

func lagWantStatus(t *testing.T, snap *lag.Snapshot, want map[string][2]lag.Status) {
	t.Helper()
	for name, w := range want {
		got, _ := snap.Group(name)
		if got.Status != w[0] || got.Cause != w[1] {
			t.Errorf("cycle %d, %s: status %s/%s (%s), want %s/%s", snap.Cycle, name, got.Status, got.Cause, got.Why, w[0], w[1])
		}
	}
}

// lagCheckAPI reads the stopped group through the HTTP API.
func lagCheckAPI(t *testing.T, c *lag.Collector) {
	t.Helper()
	mux := http.NewServeMux()
	c.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/v1/groups/lag-stopped")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET group: %s", resp.Status)
	}
	var raw struct {
		Status string `json:"status"`
		Cause  string `json:"status_cause"`
		Why    string `json:"why"`
		Topics []struct {
			Partitions []struct {
				Committed  int64 `json:"committed"`
				End        int64 `json:"end"`
				LagRecords int64 `json:"lag_records"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if raw.Status != "ERR" || raw.Cause != "STOP" || !strings.Contains(raw.Why, "consumer stopped") || len(raw.Topics) != 1 {
		t.Fatalf("API group = %+v, want ERR/STOP with a why", raw)
	}
	for _, p := range raw.Topics[0].Partitions {
		if p.Committed != 15 || p.End != 21 || p.LagRecords != 6 {
			t.Errorf("partition %+v, want committed 15, end 21, lag 6", p)
		}
	}
}

func lagWantViolations(t *testing.T, snap *lag.Snapshot, want ...string) {
	t.Helper()
	var got []string
	for _, v := range snap.Violations {
		got = append(got, v.Rule+" "+v.Resource)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func lagCreateTopic(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, parts int32, configs map[string]*string) {
	t.Helper()
	resp, err := adm.CreateTopic(ctx, parts, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// lagProduce appends n records to each of the two partitions of topic.
func lagProduce(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, n int) {
	t.Helper()
	for p := range int32(2) {
		lagProduceN(ctx, t, cl, topic, p, n)
	}
}

func lagProduceN(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, p int32, n int) {
	t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s/%d: %v", topic, p, err)
	}
}

// lagConsumer joins group, reads n records and commits them; the member
// stays in the group (without committing more) until the test ends.
func lagConsumer(ctx context.Context, t *testing.T, b *realkafka.Broker, group, topic string, n int, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)
	cl := b.Client(t, all...)
	lagConsumeMore(ctx, t, cl, n)
	return cl
}

func lagConsumeMore(ctx context.Context, t *testing.T, cl *kgo.Client, n int) {
	t.Helper()
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", got, n, err)
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
}
