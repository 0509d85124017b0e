package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestPoisonPill: a consumer that cannot get past one record while it owns
// the partition (it commits up to the record and no further while records
// wait) is STALL; the group API then names that offset, the record's
// event id, its producer and the rules it breaks, and the leader exports
// the pill's offset and rules.
func TestPoisonPill(t *testing.T) {
	t.Parallel()
	const topic, group = "content.book", "search-indexer"
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, topic))
	cl := kfaketest.Client(t, c)
	ctx := context.Background()
	var recs []*kgo.Record
	for i := range 6 {
		v := awOriginal(i)
		if i == 3 {
			v = `{"meta":{"id":"not-a-uuid","type":"content.book.published","version":"1.0","timestamp":"2026-03-01T12:00:00Z","source":"content-service"},"data":"oops"}`
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("b-%d", i)), Value: []byte(v)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	stuck := stuckConsumer(t, c, topic, group, 3)
	defer stuck()

	cfg := testConfig(t, c.ListenAddrs())
	cfg.Audit.Profile = "authorworks"
	cfg.Lag.StatusWindow = 3
	cfg.Lag.StopAfter = 2 * time.Second
	in := start(t, cfg, Options{Version: "test"})
	var got struct {
		Pills []dlq.Pill `json:"poison_pills"`
	}
	wait.Within(t, 60*time.Second, "the group API names the poison pill", func() bool {
		code, body := httpget.Get(t, in.url+"/api/v1/groups/"+group)
		got.Pills = nil
		return code == 200 && json.Unmarshal([]byte(body), &got) == nil && len(got.Pills) == 1
	})
	p := got.Pills[0]
	if p.Offset != 3 || p.Topic != topic || p.Service != "content-service" || p.EventID != "not-a-uuid" ||
		!slices.Contains(p.Rules, "envelope.invalid_uuid") || !slices.Contains(p.Rules, "envelope.wrong_type") {
		t.Errorf("pill = %+v", p)
	}
	if _, body := httpget.Get(t, in.url+"/api/v1/reports/weekly?format=md"); !strings.Contains(body, "Poison pills") ||
		!strings.Contains(body, "envelope.invalid_uuid") {
		t.Errorf("the weekly report does not name the poison pill:\n%s", body)
	}
	// the metrics export the latest cycle's pills: under a loaded make test
	// one cycle saw the pill in the API and the next none (the partition
	// not judged STALL that cycle), so wait for a cycle that has it
	wait.Within(t, 60*time.Second, "the leader exports the pill's offset and rule", func() bool {
		body := metricsBody(t, in.url)
		return sumMetric(body, "eventwatch_consumer_poison_pill_offset", `group="`+group+`"`, `source_service="content-service"`) == 3 &&
			sumMetric(body, "eventwatch_consumer_poison_pill_rule", `group="`+group+`"`, `rule="envelope.invalid_uuid"`) == 1
	})
}

func metricsBody(t *testing.T, base string) string {
	t.Helper()
	_, body := httpget.Get(t, base+"/metrics")
	return body
}

// stuckConsumer joins group, commits offset at on the topic's partition 0
// and keeps polling without ever committing further: a member that owns the
// partition and cannot get past the record at.
func stuckConsumer(t *testing.T, c *kfake.Cluster, topic, group string, at int64) func() {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		committed := false
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			if committed || len(fs.Records()) == 0 {
				continue
			}
			off := map[string]map[int32]kgo.EpochOffset{topic: {0: {Epoch: -1, Offset: at}}}
			cl.CommitOffsetsSync(ctx, off, nil)
			committed = true
		}
	}()
	return func() { cancel(); <-done; cl.Close() }
}
