package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
	"github.com/eventwatch/eventwatch/internal/testutil/tier"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestDiscoveredCatalogRoundTrip: the AsyncAPI document discovered from the
// demo, used as the demo's catalog, gives no catalog.* violation on the
// demo's compliant traffic (the records its own catalog finds compliant).
func TestDiscoveredCatalogRoundTrip(t *testing.T) {
	tier.Slow(t, "runs the whole demo")
	ctx, cancel := context.WithCancel(context.Background())
	type addrs struct{ http, kafka string }
	served := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{KafkaAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Seed: 3, LogOutput: io.Discard,
			OnServing: func(h, k string) { served <- addrs{h, k} }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo returned %v", err)
		}
	}()
	var a addrs
	select {
	case a = <-served:
	case err := <-done:
		t.Fatalf("demo stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not serve within 30s")
	}
	waitTraffic(ctx, t, a.kafka, minRecords)
	recs := readAll(ctx, t, a.kafka)
	doc := discoveredAfter(t, "http://"+a.http, recs)
	file := filepath.Join(t.TempDir(), "estate.yaml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	discovered, err := catalog.Load(file)
	if err != nil {
		t.Fatalf("the discovered document does not load as a catalog: %v", err)
	}
	own, err := catalog.Load(filepath.Join("catalog"))
	if err != nil {
		t.Fatal(err)
	}
	before, after := demoEngines(t, own), demoEngines(t, discovered)
	compliant := 0
	for _, r := range recs {
		if res := before(r.Topic).Check(r); !res.Compliant() {
			continue
		}
		compliant++
		res := after(r.Topic).Check(r)
		for _, v := range res.Violations {
			if strings.HasPrefix(v.Rule, "catalog.") {
				t.Errorf("%s@%d %s: %s %s", r.Topic, r.Offset, res.EventType, v.Rule, v.Message)
			}
		}
	}
	if compliant < 50 {
		t.Fatalf("only %d compliant records of %d", compliant, len(recs))
	}
	t.Logf("%d compliant records of %d, %d catalog entries discovered", compliant, len(recs), len(discovered.Entries()))
}

// minRecords is the demo traffic the round trip waits for: about half of
// the demo's records are compliant, so this many make the test's "at least
// 50 compliant" meaningful with a margin (385 records, 193 compliant after
// 15 s with seed 3).
const minRecords = 200

// waitTraffic waits until the demo topics' end offsets add up to at least n
// records.
func waitTraffic(ctx context.Context, t *testing.T, kafka string, n int64) {
	t.Helper()
	var names []string
	for _, tp := range topics {
		names = append(names, tp.name)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var total int64
	var lastErr error
	wait.Describe(t, 60*time.Second, func() string {
		return fmt.Sprintf("%d records across the demo topics (have %d, last error %v)", n, total, lastErr)
	}, func() bool {
		ends, err := adm.ListEndOffsets(ctx, names...)
		if err != nil {
			lastErr = err
			return false
		}
		total = 0
		ends.Each(func(o kadm.ListedOffset) { total += max(o.Offset, 0) })
		return total >= n
	})
}

// readAll reads every record the demo wrote up to now (the end offsets
// listed first; the demo keeps producing).
func readAll(ctx context.Context, t *testing.T, kafka string) []*event.Record {
	t.Helper()
	var names []string
	for _, tp := range topics {
		names = append(names, tp.name)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafka), kgo.ConsumeTopics(names...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			if left[o.Topic] == nil {
				left[o.Topic] = map[int32]int64{}
			}
			left[o.Topic][o.Partition] = o.Offset
		}
	})
	var out []*event.Record
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for len(left) > 0 && pctx.Err() == nil {
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Topic][r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			out = append(out, toRecord(r))
			if r.Offset == end-1 {
				delete(left[r.Topic], r.Partition)
				if len(left[r.Topic]) == 0 {
					delete(left, r.Topic)
				}
			}
		})
	}
	if len(left) > 0 {
		t.Fatalf("could not read up to the end offsets of %v", left)
	}
	return out
}

func toRecord(r *kgo.Record) *event.Record {
	rec := &event.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
	for _, h := range r.Headers {
		rec.Headers = append(rec.Headers, event.Header{Key: h.Key, Value: h.Value})
	}
	return rec
}

// discoveredAfter fetches the discovered document once the daemon has
// counted at least the records read, topic by topic.
func discoveredAfter(t *testing.T, base string, recs []*event.Record) []byte {
	t.Helper()
	want := map[string]float64{}
	for _, r := range recs {
		want[r.Topic]++
	}
	behind := ""
	wait.Describe(t, 30*time.Second, func() string {
		return "the daemon to count the records of " + behind
	}, func() bool {
		var doc struct {
			Channels map[string]map[string]any `json:"channels"`
		}
		_ = json.Unmarshal([]byte(scrape(t, base+"/api/v1/catalog/asyncapi?format=json")), &doc)
		behind = ""
		for topic, n := range want {
			got, _ := doc.Channels[topic]["x-eventwatch-records"].(float64)
			if got < n {
				behind = topic
			}
		}
		return behind == ""
	})
	return []byte(scrape(t, base+"/api/v1/catalog/asyncapi"))
}

// demoEngines audits like the demo's daemon: AuthorWorks topics with the
// authorworks profile, the rest with huleedu.
func demoEngines(t *testing.T, cat *catalog.Catalog) func(topic string) *audit.Engine {
	t.Helper()
	mk := func(profile string) *audit.Engine {
		return enginetest.Engine(t, profile, audit.Options{Catalog: cat})
	}
	hule, aw := mk("huleedu"), mk("authorworks")
	cfg, err := daemonConfig(t.TempDir(), []string{"127.0.0.1:1"}, "huleedu")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^(?:` + cfg.Audit.Overrides[0].Topics[0] + `)$`)
	return func(topic string) *audit.Engine {
		if re.MatchString(topic) {
			return aw
		}
		return hule
	}
}
