package dlq

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestTopicNamesLeavesNoMetadataCached: TopicNames lists every topic, and
// the client keeps none of the answer: a cached-metadata lookup of a
// listed topic afterwards still goes to the broker. The same lookup after
// kadm.ListTopics (what the triage used before) is answered from the
// client's cache, which is what TopicNames avoids.
func TestTopicNamesLeavesNoMetadataCached(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(2), kfake.SeedTopics(4, "orders", "orders.dlq", "payments", "payments.DLT"))
	var asked atomic.Int64
	c.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		asked.Add(1)
		return nil, nil, false
	})
	cl := kfaketest.Client(t, c)
	ctx := context.Background()
	names, err := TopicNames(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if want := []string{"orders", "orders.dlq", "payments", "payments.DLT"}; !slices.Equal(names, want) {
		t.Fatalf("TopicNames = %v, want %v", names, want)
	}
	cachedLookup := func(topic string) (fromBroker bool) {
		t.Helper()
		before := asked.Load()
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		if _, err := cl.RequestCachedMetadata(ctx, req, time.Hour); err != nil {
			t.Fatal(err)
		}
		return asked.Load() > before
	}
	if !cachedLookup("orders") {
		t.Fatal("after TopicNames the client answered topic metadata from its cache: the all-topics answer was kept")
	}
	if _, err := kadm.NewClient(cl).ListTopics(ctx); err != nil {
		t.Fatal(err)
	}
	if cachedLookup("payments") {
		t.Fatal("control: after kadm.ListTopics the lookup went to the broker, so this test cannot see a cached answer")
	}
}

// TestTopicNamesNoBroker: a client whose brokers cannot be reached gets
// an error, not an empty list.
func TestTopicNamesNoBroker(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	cl := kfaketest.Client(t, c)
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if names, err := TopicNames(ctx, cl); err == nil {
		t.Fatalf("TopicNames on a closed cluster = %v, nil", names)
	}
}

// nopAuditor finds nothing wrong.
type nopAuditor struct{}

func (nopAuditor) Check(*event.Record) event.Result { return event.Result{} }

// TestTriageTakesTopicsFromLister: with a lister that has a fresh listing
// (the sampler's), the triage discovers dead-letter topics from its names
// and sends no all-topics Metadata request of its own; when the lister has
// none, the triage lists the topics itself.
func TestTriageTakesTopicsFromLister(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1), kfake.SeedTopics(1, "orders", "a.DLT", "b.DLT"))
	listed := kfaketest.CountAllTopicsMetadata(c)
	pr := kfaketest.Client(t, c, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, topic := range []string{"a.DLT", "b.DLT"} {
		if err := pr.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(`{}`)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var fresh atomic.Bool
	fresh.Store(true)
	var asked atomic.Int64
	tr := NewTriage(TriageConfig{MaxClasses: 50, Retention: 24 * time.Hour, Refresh: 200 * time.Millisecond},
		[]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, func(topic string) bool { return strings.HasSuffix(topic, ".DLT") },
		nopAuditor{}, nil, nil)
	tr.TopicsFrom(func(maxAge time.Duration) ([]string, bool) {
		asked.Add(1)
		if maxAge != 400*time.Millisecond {
			t.Errorf("asked for a listing younger than %s, want two refreshes (400ms)", maxAge)
		}
		if !fresh.Load() {
			return nil, false
		}
		return []string{"orders", "a.DLT"}, true
	})
	before := listed.Load()
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx) }()
	triaged := func(topic string) bool {
		tr.mu.RLock()
		defer tr.mu.RUnlock()
		return tr.topics[topic] != nil && tr.topics[topic].records == 1
	}
	wait.For(t, "a.DLT triaged from the lister's names", func() bool { return triaged("a.DLT") && asked.Load() >= 3 })
	if triaged("b.DLT") {
		t.Error("b.DLT triaged: the triage listed the topics itself while the lister had a fresh listing")
	}
	if n := listed.Load() - before; n != 0 {
		t.Errorf("the triage sent %d all-topics Metadata requests while the lister had a fresh listing", n)
	}
	fresh.Store(false)
	wait.For(t, "b.DLT triaged once the lister has no fresh listing", func() bool { return triaged("b.DLT") })
	cancel()
	<-done
}
