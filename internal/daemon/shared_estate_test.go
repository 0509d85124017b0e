package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/eventwatch/eventwatch/internal/config"
	synth "github.com/eventwatch/eventwatch/internal/testutil/estate"
	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// estateConfig is a daemon configuration for an estate-size test: the
// sampler reads nothing of the synthetic estate (this test is about the
// shared groups), the lag cycle runs every 2s.
func estateConfig(t *testing.T, seeds []string, replica string) *config.Config {
	cfg := testConfig(t, seeds)
	cfg.Sample.TopicsInclude = []string{"none-of-the-estate"}
	cfg.Lag.Interval = 2 * time.Second
	cfg.Lag.StatusWindow = leaderCfgWindow // the windows fill (and stop changing) in three cycles
	cfg.Share.ReplicaID = replica
	cfg.Share.Interval = 500 * time.Millisecond
	cfg.Share.StaleAfter = 10 * time.Minute // no heartbeat head within the quiet cycles
	return cfg
}

// leaderCfgWindow is the status window, in lag cycles, of the estate test.
const leaderCfgWindow = 3

// groupsPageOf is the part of /api/v1/groups this test checks.
type groupsPageOf struct {
	Time   time.Time `json:"time"`
	Groups []struct {
		Group  string `json:"group"`
		Topics []struct {
			Topic string `json:"topic"`
			Lag   int64  `json:"lag_records"`
		} `json:"topics"`
	} `json:"groups"`
}

// equalPages waits until the follower answers /api/v1/groups byte for byte
// as the leader does (both at the same lag cycle) and returns the body.
func equalPages(t *testing.T, leader, follower *instance) string {
	t.Helper()
	var body string
	wait.Within(t, 90*time.Second, "the follower's /api/v1/groups equals the leader's", func() bool {
		lc, lb := httpget.Get(t, leader.url+"/api/v1/groups")
		fc, fb := httpget.Get(t, follower.url+"/api/v1/groups")
		body = lb
		return lc == 200 && fc == 200 && lb == fb
	})
	return body
}

// TestSharedGroupsAtEstateSize: 10,000 partitions × 500 groups (500,000
// committed group partitions) on kfake, a leader and a follower. The
// follower's /api/v1/groups equals the leader's byte for byte and holds
// every group's exact lag; no record on the shared state topic is above
// the record budget (a quarter of max.message.bytes); once nothing in the
// estate changes, a lag cycle writes no group, DLQ or violation record —
// only the cycle's small head.
func TestSharedGroupsAtEstateSize(t *testing.T) {
	if testing.Short() {
		t.Skip("estate-size test (10k partitions × 500 groups); runs without -short")
	}
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(3))
	shape := synth.Issue9
	cl := kfaketest.Client(t, c, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := context.Background()
	t0 := time.Now()
	if err := shape.Build(ctx, cl); err != nil {
		t.Fatal(err)
	}
	t.Logf("estate %s built in %s", shape, time.Since(t0).Round(time.Millisecond))
	leader := start(t, estateConfig(t, c.ListenAddrs(), "leader"), Options{})
	wait.Within(t, 60*time.Second, "leader leads", func() bool {
		_, b := httpget.Get(t, leader.url+"/readyz")
		return strings.Contains(b, "leader: true")
	})
	follower := start(t, estateConfig(t, c.ListenAddrs(), "follower"), Options{})

	body := equalPages(t, leader, follower)
	t.Logf("follower equal to the leader after %s", time.Since(t0).Round(time.Millisecond))
	checkExactLag(t, shape, body)
	checkRecordSizes(t, c)

	// Every group catches up; once the status windows are full nothing
	// changes from one cycle to the next.
	catchUp(t, cl, shape)
	t.Logf("caught up after %s", time.Since(t0).Round(time.Millisecond))
	wait.Within(t, 90*time.Second, "every group caught up on the leader", func() bool {
		_, b := httpget.Get(t, leader.url+"/api/v1/groups/"+shape.Group(shape.Groups-1))
		return strings.Contains(b, `"lag_records": 0,`) && strings.Contains(b, `"complete": true`)
	})
	t.Logf("quiet after %s", time.Since(t0).Round(time.Millisecond))
	// The status windows (StatusWindow cycles of rates, waiting times) keep
	// changing for that many cycles after the last commit: let them settle
	// before counting what a quiet cycle writes.
	settled := sharedCycle(t, leader) + int64(leaderCfgWindow)
	wait.Within(t, 60*time.Second, "the status windows settled", func() bool { return sharedCycle(t, leader) >= settled })
	cycle0 := sharedCycle(t, leader) // first: a cycle shared between the two reads is then counted in cycles only
	before := metric(t, leader.url, "eventwatch_share_published_records_total", `kind="groups"`)
	bytes0 := metric(t, leader.url, "eventwatch_share_published_bytes_total", `kind="groups"`)
	wait.Within(t, 60*time.Second, "three more lag cycles shared", func() bool { return sharedCycle(t, leader) >= cycle0+3 })
	after := metric(t, leader.url, "eventwatch_share_published_records_total", `kind="groups"`)
	bytes1 := metric(t, leader.url, "eventwatch_share_published_bytes_total", `kind="groups"`)
	cycles := float64(sharedCycle(t, leader) - cycle0)
	if after-before > cycles {
		t.Errorf("%v records written over %v quiet cycles: more than one head per cycle", after-before, cycles)
	}
	// the head is small: the sampled topics' coverage (200 topics here,
	// 28 KB) is shared item by item, only when it changes
	if perCycle := (bytes1 - bytes0) / cycles; perCycle > 4096 {
		t.Errorf("%.0f bytes published per quiet cycle: the head is not small", perCycle)
	}
	wait.Within(t, 30*time.Second, "the follower's /readyz shows the leader's sampling coverage", func() bool {
		_, lb := httpget.Get(t, leader.url+"/readyz")
		_, fb := httpget.Get(t, follower.url+"/readyz")
		return coverageLine(lb) != "" && coverageLine(lb) == coverageLine(fb)
	})
	body = equalPages(t, leader, follower)
	if !strings.Contains(body, `"lag_records": 0`) {
		t.Errorf("follower's page after the catch-up: %.300s", body)
	}
	if n := metric(t, leader.url, "eventwatch_share_publish_errors_total"); n != 0 {
		t.Errorf("%v publish errors", n)
	}
	if got := metric(t, follower.url, "eventwatch_share_view_missing_items", `kind="groups"`); got != 0 {
		t.Errorf("follower misses %v items", got)
	}
}

// coverageLine is the sampling coverage part of a /readyz answer.
func coverageLine(readyz string) string {
	_, rest, ok := strings.Cut(readyz, "coverage: ")
	if !ok {
		return ""
	}
	line, _, _ := strings.Cut(rest, "; shared state")
	return line
}

// sharedCycle is the lag cycle whose groups the leader has shared, from
// its /readyz line.
func sharedCycle(t *testing.T, leader *instance) int64 {
	_, b := httpget.Get(t, leader.url+"/readyz")
	var n int64
	if i := strings.Index(b, "groups of lag cycle "); i >= 0 {
		_, _ = fmt.Sscan(b[i+len("groups of lag cycle "):], &n)
	}
	return n
}

func checkExactLag(t *testing.T, shape synth.Shape, body string) {
	t.Helper()
	var p groupsPageOf
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for g := range shape.Groups {
		byName[shape.Group(g)] = g
	}
	seen := 0
	for _, g := range p.Groups {
		idx, ok := byName[g.Group]
		if !ok {
			continue
		}
		seen++
		want := shape.WantLag(idx)
		for _, tl := range g.Topics {
			if tl.Lag != want[tl.Topic] {
				t.Fatalf("group %s topic %s: lag %d, want %d", g.Group, tl.Topic, tl.Lag, want[tl.Topic])
			}
		}
	}
	if seen != shape.Groups {
		t.Fatalf("the page has %d of the %d groups", seen, shape.Groups)
	}
}

// checkRecordSizes reads the whole shared state topic: every record is at
// most the record budget (a quarter of max.message.bytes) plus its key.
func checkRecordSizes(t *testing.T, c *kfake.Cluster) {
	t.Helper()
	cl := kfaketest.Client(t, c, kgo.ConsumeTopics("__eventwatch_state"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, "__eventwatch_state")
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup("__eventwatch_state", 0)
	largest, n := 0, int64(0)
	for n < end.Offset && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			n++
			largest = max(largest, len(r.Value))
		})
	}
	const limit, budget = 1048588, 1048588 / 4
	if largest > budget || largest >= limit {
		t.Errorf("largest record value %d bytes, above the budget %d (max.message.bytes %d)", largest, budget, limit)
	}
	t.Logf("shared state topic: %d records, largest value %d bytes (budget %d)", n, largest, budget)
}

// catchUp commits every group at the end of every partition it reads.
func catchUp(t *testing.T, cl *kgo.Client, shape synth.Shape) {
	t.Helper()
	adm := kadm.NewClient(cl)
	var eg errgroup.Group
	eg.SetLimit(8)
	for g := range shape.Groups {
		var os kadm.Offsets
		for _, tp := range shape.TopicsOf(g) {
			for p := range shape.Parts {
				os.AddOffset(shape.Topic(tp), int32(p), shape.Produced(tp, p), -1)
			}
		}
		eg.Go(func() error { return adm.CommitAllOffsets(context.Background(), shape.Group(g), os) })
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
}
