package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// demoPill is a poison pill as GET /api/v1/groups/{group} shows it.
type demoPill struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	EventID   string   `json:"event_id"`
	Service   string   `json:"source_service"`
	Rules     []string `json:"failing_rules"`
}

// checkPoisonPill: the demo's malformed account event blocks one
// partition of profile-projector; once it is STALL, the group API names
// that record — checked against the record read back from the demo's
// Kafka at the named offset — the rules it breaks and who produced it,
// and names no other partition.
func checkPoisonPill(t *testing.T, base, kafkaAddr string) {
	t.Helper()
	var pills []demoPill
	wait.Describe(t, 150*time.Second, func() string {
		return fmt.Sprintf("a poison pill of %s from %s; have %+v", GroupProjector, PillProducer, pills)
	}, func() bool {
		var g struct {
			Pills []demoPill `json:"poison_pills"`
		}
		if code, body := httpget.Get(t, base+"/api/v1/groups/"+GroupProjector); code != 200 || json.Unmarshal([]byte(body), &g) != nil {
			return false
		}
		pills = g.Pills
		return len(pills) > 0 && pills[0].Service == PillProducer
	})
	if len(pills) != 1 {
		t.Fatalf("pills %+v, want exactly the one partition the pill blocks", pills)
	}
	p := pills[0]
	if p.Topic != TopicUser || p.EventID != "acct-0042" || !slices.Contains(p.Rules, "envelope.invalid_uuid") || !slices.Contains(p.Rules, "envelope.wrong_type") {
		t.Errorf("pill %+v, want %s acct-0042 breaking envelope.invalid_uuid and envelope.wrong_type", p, TopicUser)
	}
	at := fmt.Sprintf(`group="%s",partition="%d"`, GroupProjector, p.Partition)
	if got := sample(scrape(t, base+"/metrics"), "eventwatch_consumer_poison_pill_offset", at); got != float64(p.Offset) {
		t.Errorf("eventwatch_consumer_poison_pill_offset{%s} = %v, want %d", at, got, p.Offset)
	}
	var rep struct {
		Pills []demoPill `json:"poison_pills"`
	}
	_, body := httpget.Get(t, base+"/api/v1/reports/weekly?format=json&team=content")
	if err := json.Unmarshal([]byte(body), &rep); err != nil || len(rep.Pills) != 1 || rep.Pills[0].Offset != p.Offset || rep.Pills[0].Service != PillProducer {
		t.Errorf("the content team's weekly report names pills %+v (%v), want the one at offset %d", rep.Pills, err, p.Offset)
	}
	rec := readAt(t, kafkaAddr, p.Topic, p.Partition, p.Offset)
	var ev awEvent
	if err := json.Unmarshal(rec.Value, &ev); err != nil || ev.Meta.ID != "acct-0042" || ev.Meta.Source != PillProducer {
		t.Errorf("the record at %s/%d@%d is %s, not the demo's pill", p.Topic, p.Partition, p.Offset, rec.Value)
	}
}

// readAt reads the record at topic/partition@offset from the demo's cluster.
func readAt(t *testing.T, addr, topic string, part int32, offset int64) *kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {part: kgo.NewOffset().At(offset)}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no record at %s/%d@%d", topic, part, offset)
		}
		for _, r := range fs.Records() {
			if r.Offset == offset {
				return r
			}
		}
	}
}
