package dlq

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
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
