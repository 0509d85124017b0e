package kafka

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

// TestEnsureTopic: a missing topic is created with the partitions asked
// for; an existing one is used with the partitions it has, also where
// CreateTopics is refused (eventwatch without the Create ACL).
func TestEnsureTopic(t *testing.T) {
	t.Parallel() // own cluster or listener, no environment
	c := kfaketest.Cluster(t, kfake.NumBrokers(1), kfake.SeedTopics(3, "existing"))
	base := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	if n, err := EnsureTopic(ctx, base, Topic{Name: "fresh", Partitions: 5, ReplicationFactor: -1}, log); err != nil || n != 5 {
		t.Fatalf("EnsureTopic(fresh) = %d, %v; want 5 partitions", n, err)
	}
	c.ControlKey(int16(kmsg.CreateTopics), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.CreateTopicsRequest)
		resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic, st.ErrorCode = rt.Topic, 29 // TOPIC_AUTHORIZATION_FAILED
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	if n, err := EnsureTopic(ctx, base, Topic{Name: "existing", Partitions: 16, ReplicationFactor: -1}, log); err != nil || n != 3 {
		t.Fatalf("EnsureTopic(existing, create refused) = %d, %v; want its 3 partitions", n, err)
	}
	short, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	if _, err := EnsureTopic(short, base, Topic{Name: "missing", Partitions: 1, ReplicationFactor: -1}, log); err == nil {
		t.Fatal("EnsureTopic succeeded for a topic it may not create")
	}
}
