package daemon

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestLeaderLagOnTheSamplingClient: a leader's lag collector sends its
// admin requests on the sampler's client (one client holding every
// partition's metadata per process) and fetches records for exact time
// lag on a client of the term's own — franz-go sends every Fetch on one
// connection per broker, where the sampler's fetch waits up to
// sample.fetch_max_wait (a minute here) for records. The time lag of a
// group on a topic the sampler does not read (so its record timestamps
// are not among those the sampler saw) is exact within seconds; a record
// lookup sent on the sampling client would wait behind the sampler's long
// poll for the whole minute.
func TestLeaderLagOnTheSamplingClient(t *testing.T) {
	t.Parallel()
	c, cfg := kfakeConfig(t, kfake.NumBrokers(1), kfake.SeedTopics(1, "sampled", "unsampled")) // one broker: the sampler long-polls the broker the lookup asks
	cfg.Sample.TopicsExclude = []string{"unsampled"}
	cfg.Sample.FetchMaxWait = time.Minute
	cl := kfaketest.Client(t, c)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := newDaemon(ctx, cfg, Options{LogOutput: testWriter{t}, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("daemon did not stop within 60s")
		}
	})

	var tm *term
	wait.Within(t, 30*time.Second, "leadership", func() bool { tm = d.term.Load(); return tm != nil })
	sampling := d.sampler.Client(ctx, 0)
	if sampling == nil {
		t.Fatal("the sampler has no client while the daemon runs")
	}
	if tm.admin != sampling {
		t.Error("the lag collector's admin client is not the sampling client")
	}
	if tm.records == sampling || tm.records == nil {
		t.Error("the lag collector fetches records on the sampling client, behind the sampler's long poll")
	}

	// an hour-old record at the group's committed offset, one newer behind it
	old := time.Now().Add(-time.Hour)
	if err := cl.ProduceSync(ctx,
		&kgo.Record{Topic: "unsampled", Value: []byte(`{}`), Timestamp: old},
		&kgo.Record{Topic: "unsampled", Value: []byte(`{}`), Timestamp: old.Add(time.Minute)},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: "unsampled", Partition: 0, At: 0, LeaderEpoch: -1})
	if _, err := kadm.NewClient(cl).CommitOffsets(ctx, "billing", offs); err != nil {
		t.Fatal(err)
	}
	var g struct {
		LagRecords int64 `json:"lag_records"`
		Topics     []struct {
			Exact int `json:"lag_seconds_exact_partitions"`
		} `json:"topics"`
	}
	var body string
	start := time.Now()
	wait.Within(t, 20*time.Second, "billing's exact time lag", func() bool {
		var code int
		code, body = httpget.Get(t, url+"/api/v1/groups/billing")
		return code == 200 && json.Unmarshal([]byte(body), &g) == nil && len(g.Topics) == 1 && g.Topics[0].Exact == 1
	})
	t.Logf("exact after %s", time.Since(start).Round(time.Millisecond))
	if g.LagRecords != 2 {
		t.Errorf("billing's lag: %s", body)
	}
}
