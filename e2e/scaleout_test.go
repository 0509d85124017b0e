//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
	"github.com/eventwatch/eventwatch/internal/trace"
)

// The flow of the scale-out test, one topic per hop.
var scTopics = []string{"e2e-scale.batch", "e2e-scale.essay", "e2e-scale.spell"}

var scHops = []struct{ service, eventType string }{
	{"batch_orchestrator_service", "huleedu.batchorchestration.batch.pipelines_configured.v1"},
	{"essay_lifecycle_service", "huleedu.essaylifecycle.essay.spellcheck_requested.v1"},
	{"spell_checker_service", "huleedu.spellchecker.essay.spellcheck_completed.v1"},
}

const (
	scChains = 120
	scWindow = 60 * time.Second
)

// scTraffic is the recorded traffic: the records of every chain, by hop.
// Most chains are traced (traceparent continued through the hops); every
// fourth is not (correlation id only); every third replaces the
// correlation id at its last hop and every fifth drops it there, so some
// chains are joined only by their trace id.
func scTraffic() [3][]*kgo.Record {
	var out [3][]*kgo.Record
	start := time.Now().UTC()
	for i := range scChains {
		corr := uuid.NewString()
		traceID := randHex(16)
		for hop, h := range scHops {
			c := corr
			if hop == 2 && i%3 == 0 {
				c = uuid.NewString()
			}
			if hop == 2 && i%5 == 0 {
				c = ""
			}
			at := start.Add(time.Duration(i)*time.Millisecond + time.Duration(hop)*150*time.Millisecond)
			ev := map[string]any{"event_id": uuid.NewString(), "event_type": h.eventType, "event_timestamp": at.Format(time.RFC3339Nano),
				"source_service": h.service, "data": map[string]any{"batch_id": fmt.Sprintf("b-%d", i)}}
			if c != "" {
				ev["correlation_id"] = c
			}
			value, _ := json.Marshal(ev)
			rec := &kgo.Record{Topic: scTopics[hop], Key: []byte(fmt.Sprintf("k-%d-%d", i, hop)), Value: value}
			if i%4 != 0 {
				rec.Headers = []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-" + traceID + "-" + randHex(8) + "-01")}}
			}
			out[hop] = append(out[hop], rec)
		}
	}
	return out
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// scStart runs `eventwatch run` as replica name of deployment dep: its
// own sampling group, leader election, routing topic and shared state,
// so that two deployments watch the same topics side by side. dsn is the
// report store ("" for SQLite in the data dir; replicas of one deployment
// share a PostgreSQL store, where the sampler keeps its positions).
func scStart(ctx context.Context, t *testing.T, bin, broker, dir, dep, name, dsn string) *dmProc {
	t.Helper()
	dir = filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`data_dir: %s
kafka:
  brokers: [%q]
  probe_interval: 2s
sample:
  group_id: ew-%[3]s
  topics_include: ['e2e-scale\..*']
  start_from: earliest
  commit_interval: 500ms
  metadata_refresh: 2s
  session_timeout: 6s
lag:
  interval: 2s
  show_own_groups: true           # the deployments see each other's sampler groups (and their own)
leader:
  topic: __ew_leader_%[3]s
  group: ew-leader-%[3]s
  session_timeout: 6s
trace:
  window: %[4]s
  routing:
    topic: __ew_hops_%[3]s
    group: ew-trace-%[3]s
    partitions: 8
    session_timeout: 6s
share:
  topic: __ew_state_%[3]s
  replica_id: %[5]s
  interval: 1s
  stale_after: 5s
store:
  dsn: %[6]q
  flush_interval: 500ms
log:
  format: text
`, filepath.Join(dir, "data"), broker, dep, scWindow, name, dsn)
	file := filepath.Join(dir, "eventwatch.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dmRunProc(ctx, t, bin, name, file, addr)
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// scFlows is what must agree between deployments: pathways, hops and
// propagation, by name.
type scFlows struct {
	Closed      uint64
	Open        int
	Pathways    map[string]uint64
	Hops        map[string]uint64
	Propagation map[string][3]uint64
}

func (d *dmDaemon) flows(t *testing.T) (scFlows, bool) {
	t.Helper()
	code, body := d.get(t, "/api/v1/flows")
	var r trace.Report
	if code != 200 || json.Unmarshal([]byte(body), &r) != nil {
		return scFlows{}, false
	}
	f := scFlows{Closed: r.ClosedChains, Open: r.OpenChains, Pathways: map[string]uint64{}, Hops: map[string]uint64{}, Propagation: map[string][3]uint64{}}
	for _, p := range r.Pathways {
		f.Pathways[p.Pathway] = p.Count
	}
	for _, h := range r.Hops {
		f.Hops[h.From+"/"+h.FromType+">"+h.To+"/"+h.ToType] = h.Count
	}
	for _, p := range r.Propagation {
		f.Propagation[p.Service] = [3]uint64{p.Events, p.WithCorrelation, p.WithTraceContext}
	}
	return f, true
}

func (f scFlows) String() string {
	b, _ := json.Marshal(f)
	return string(b)
}

// groupNames is the sorted list of groups /api/v1/groups shows, and the status.
func (d *dmDaemon) groupNames(t *testing.T) (int, []string) {
	t.Helper()
	code, body := d.get(t, "/api/v1/groups")
	var page struct {
		Groups []struct {
			Group string `json:"group"`
		} `json:"groups"`
	}
	_ = json.Unmarshal([]byte(body), &page)
	var names []string
	for _, g := range page.Groups {
		names = append(names, g.Group)
	}
	slices.Sort(names)
	return code, names
}

func scSum(t *testing.T, ps []*dmProc, name string) float64 {
	var n float64
	for _, p := range ps {
		n += p.d.metric(t, name)
	}
	return n
}

// TestScaleOutSameAnswer: the same recorded traffic through one replica,
// and through three replicas in one group of which one is killed (SIGKILL)
// and replaced while every chain is open, gives the same pathways, hop
// counts and propagation figures — exactly, since every record is audited
// — and every replica's /api/v1/flows and /api/v1/groups gives that answer.
func TestScaleOutSameAnswer(t *testing.T) {
	b := realkafka.Start(t)
	ctx := dmContext(t, 8*time.Minute)
	adm := kadm.NewClient(b.Client(t))
	for _, topic := range scTopics {
		dmCreateTopic(ctx, t, adm, topic)
	}
	dir := t.TempDir()
	bin := dmBinary(ctx, t, dir)
	one := scStart(ctx, t, bin, b.Addr(), dir, "one", "one-0", "")
	dsn := pgtest.DSN(t)
	three := []*dmProc{scStart(ctx, t, bin, b.Addr(), dir, "three", "three-a", dsn), scStart(ctx, t, bin, b.Addr(), dir, "three", "three-b", dsn),
		scStart(ctx, t, bin, b.Addr(), dir, "three", "three-c", dsn)}
	all := append([]*dmProc{one}, three...)
	for _, p := range all {
		p.d.waitReady(t)
	}
	parts := float64(3 * len(scTopics))
	settled := func(ps []*dmProc) bool {
		for _, p := range ps {
			if p.d.metric(t, "eventwatch_sampler_assigned_partitions") == 0 || p.d.metric(t, "eventwatch_trace_routing_partitions") == 0 {
				return false
			}
		}
		return scSum(t, ps, "eventwatch_sampler_assigned_partitions") == parts && scSum(t, ps, "eventwatch_trace_routing_partitions") == 8
	}
	dmEventually(t, "both deployments own every sampled and routing partition", 2*time.Minute, func() bool {
		return settled([]*dmProc{one}) && settled(three)
	})

	traffic := scTraffic()
	cl := b.Client(t, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	produce := func(recs []*kgo.Record) {
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	// Phase 1: the first two hops of every chain. Every chain is then open
	// on both deployments.
	produce(append(slices.Clone(traffic[0]), traffic[1]...))
	openEverywhere := func(p *dmProc) bool { f, ok := p.d.flows(t); return ok && f.Open == scChains }
	dmEventually(t, "every chain open on the single replica", 2*time.Minute, func() bool { return openEverywhere(one) })
	dmEventually(t, "every chain open across the three replicas", 2*time.Minute, func() bool { return openEverywhere(three[0]) })
	scWaitDurable(ctx, t, adm, "three", three)

	// Kill one of the three while its chains are open, and replace it.
	three[1].kill(t)
	killed := time.Now()
	three[1] = scStart(ctx, t, bin, b.Addr(), dir, "three", "three-d", dsn)
	three[1].d.waitReady(t)
	dmEventually(t, "the survivors and the replacement own every partition", 2*time.Minute, func() bool { return settled(three) })
	t.Logf("partitions reassigned %.1fs after SIGKILL", time.Since(killed).Seconds())

	// Phase 2: the last hop of every chain.
	produce(traffic[2])
	var want scFlows
	dmEventually(t, "every chain closed on the single replica", 3*time.Minute, func() bool {
		f, ok := one.d.flows(t)
		want = f
		return ok && f.Open == 0 && f.Propagation[scHops[2].service][0] == scChains
	})
	checkExact(t, want)
	for _, p := range three {
		var got scFlows
		wait.DescribeEvery(t, 2*time.Minute, 500*time.Millisecond, func() string {
			return fmt.Sprintf("%s: /api/v1/flows of three replicas (one killed) to close every chain as one replica did:\n got %s\nwant %s", p.d.url, got, want)
		}, func() bool {
			f, ok := p.d.flows(t)
			got = f
			return ok && f.Open == 0 && f.Closed == want.Closed
		})
		got.Open, want.Open = 0, 0
		if got.String() != want.String() {
			t.Errorf("%s: /api/v1/flows of three replicas (one killed) differs from one replica:\n got %s\nwant %s", p.d.url, got, want)
		}
	}
	for _, p := range three {
		if f, _ := p.d.flows(t); f.String() != want.String() {
			t.Errorf("%s: /api/v1/flows = %s, want %s", p.d.url, f, want)
		}
	}
	// /api/v1/groups: every replica answers with the leader's groups, the
	// groups the single replica sees in the same cluster.
	var leaderGroups []string
	dmEventually(t, "every replica answers /api/v1/groups with the single replica's groups", time.Minute, func() bool {
		code, first := one.d.groupNames(t)
		if code != 200 || len(first) == 0 {
			return false
		}
		for _, p := range three {
			if code, names := p.d.groupNames(t); code != 200 || !slices.Equal(names, first) {
				return false
			}
		}
		leaderGroups = first
		return true
	})
	for _, g := range []string{"ew-three", "ew-one"} {
		if !slices.Contains(leaderGroups, g) {
			t.Errorf("/api/v1/groups lacks the sampling group %s: %v", g, leaderGroups)
		}
	}
}

// scWaitDurable waits until what a killed replica of deployment dep leaves
// behind covers the traffic so far: the sampling group's commits (made from
// the stored positions) and the routing group's commits at the end of
// their topics, and every replica's answer counting every record sampled
// (a replica's answer holds the others' counts only from their published
// shared documents).
func scWaitDurable(ctx context.Context, t *testing.T, adm *kadm.Client, dep string, ps []*dmProc) {
	t.Helper()
	dmEventually(t, "stored positions, commits and shared documents of "+dep+" to catch up", time.Minute, func() bool {
		if !scCommittedAtEnd(ctx, adm, "ew-"+dep, scTopics...) || !scCommittedAtEnd(ctx, adm, "ew-trace-"+dep, "__ew_hops_"+dep) {
			return false
		}
		ends, err := adm.ListEndOffsets(ctx, scTopics...)
		if err != nil || ends.Error() != nil {
			return false
		}
		for _, p := range ps {
			f, ok := p.d.flows(t)
			if !ok {
				return false
			}
			for i, h := range scHops {
				if f.Propagation[h.service][0] != scProduced(ends, scTopics[i]) {
					return false
				}
			}
		}
		return true
	})
}

// scProduced is how many records topic holds: the sum of its end offsets.
func scProduced(ends kadm.ListedOffsets, topic string) uint64 {
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Topic == topic {
			n += o.Offset
		}
	})
	return uint64(max(n, 0))
}

// scCommittedAtEnd reports whether group committed the end offset of every
// non-empty partition of topics.
func scCommittedAtEnd(ctx context.Context, adm *kadm.Client, group string, topics ...string) bool {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil || ends.Error() != nil {
		return false
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil || offs.Error() != nil {
		return false
	}
	at := true
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset <= 0 {
			return
		}
		c, ok := offs.Lookup(o.Topic, o.Partition)
		at = at && ok && c.Err == nil && c.At == o.Offset
	})
	return at
}

// checkExact checks the single replica's answer against the traffic: every
// record audited, every chain's three hops counted once.
func checkExact(t *testing.T, f scFlows) {
	t.Helper()
	for _, h := range scHops {
		if got := f.Propagation[h.service][0]; got != scChains {
			t.Errorf("propagation events of %s = %d, want %d (every record audited once)", h.service, got, scChains)
		}
	}
	full := strings.Join([]string{scHops[0].service, scHops[1].service, scHops[2].service}, ">")
	if f.Pathways[full] < scChains*3/4 {
		t.Errorf("pathway %s counted %d times, want most of the %d chains: %s", full, f.Pathways[full], scChains, f)
	}
}
