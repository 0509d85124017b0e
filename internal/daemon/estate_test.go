package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/testutil/httpget"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestAsyncAPIEstateWide: two replicas split a topic's partitions; each
// answers GET /api/v1/catalog/asyncapi with the estate-wide document:
// every event counted once across replicas, the channel's Kafka binding
// from the leader's lag collector, and a receive operation for the
// consumer group that commits on the topic.
func TestAsyncAPIEstateWide(t *testing.T) {
	topic := "huleedu.dev.asyncapi.batch"
	c := kfaketest.Cluster(t, kfake.SeedTopics(4, topic))
	cl := kfaketest.Client(t, c)
	cfgA, cfgB := testConfig(t, c.ListenAddrs()), testConfig(t, c.ListenAddrs())
	cfgA.Share.Interval, cfgB.Share.Interval = time.Second, time.Second
	cfgA.Audit.Catalog = filepath.Join("..", "..", "examples", "catalog", "huleedu")
	a := start(t, cfgA, Options{})
	b := start(t, cfgB, Options{})
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % 4), Key: []byte(fmt.Sprint(i)), Value: []byte(goodHuleedu)})
	}
	ctx := context.Background()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	consumer := kfaketest.Client(t, c, kgo.ConsumerGroup("batch_consumer"), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fetched := 0
	for fetched < 40 {
		fs := consumer.PollFetches(ctx)
		fetched += fs.NumRecords()
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	msgID := "huleedu.batchorchestration.batch.pipelines_configured.v1"
	for _, in := range []*instance{a, b} {
		wait.Within(t, 90*time.Second, "the estate-wide document on "+in.url, func() bool {
			code, body := httpget.Get(t, in.url+"/api/v1/catalog/asyncapi?format=json")
			if code != 200 {
				return false
			}
			var doc struct {
				Channels   map[string]map[string]any `json:"channels"`
				Operations map[string]map[string]any `json:"operations"`
				Components struct {
					Messages map[string]map[string]any `json:"messages"`
				} `json:"components"`
			}
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("document is not JSON: %v", err)
			}
			m := doc.Components.Messages[msgID]
			ch := doc.Channels[topic]
			return m != nil && m["x-eventwatch-checked"] == float64(40) && ch["bindings"] != nil &&
				doc.Operations["receive.batch_consumer."+topic] != nil && doc.Operations["send.batch_orchestrator_service."+topic] != nil
		})
	}
	code, body := httpget.Get(t, a.url+"/api/v1/catalog/asyncapi")
	if code != 200 || !strings.HasPrefix(body, "asyncapi: 3.0.0") {
		t.Fatalf("YAML document: %d %.200s", code, body)
	}
	entries, err := catalog.ParseAsyncAPI([]byte(body))
	if err != nil || len(entries) != 1 || entries[0].Producer != "batch_orchestrator_service" {
		t.Fatalf("the discovered document as a catalog: %+v, %v", entries, err)
	}
	code, body = httpget.Get(t, a.url+"/api/v1/reports/weekly?format=json")
	var rep struct {
		CatalogDrift []struct{ Kind, Type string } `json:"catalog_drift"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil || code != 200 {
		t.Fatalf("weekly report: %d %v", code, err)
	}
	drift := map[string]bool{}
	for _, d := range rep.CatalogDrift {
		drift[d.Kind+" "+d.Type] = true
	}
	if !drift["declared_not_seen huleedu.spellchecker.essay.spellcheck_completed.v1"] {
		t.Errorf("the report's catalog drift lacks the declared type no traffic carried: %+v", rep.CatalogDrift)
	}
	if code, _ := httpget.Get(t, a.url+"/api/v1/catalog/asyncapi?format=xml"); code != 400 {
		t.Errorf("format=xml: %d, want 400", code)
	}
}
