package kafka

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestClientMetricsOffByDefault: kfake subscribes every client to KIP-714
// client metrics. A client built from the default options never asks for
// its subscription; one with client_metrics: true does (franz-go asks after
// its first produce or fetch). Each client has its own cluster, so the
// requests are told apart; both produce, the default one first, so by the
// time the opted-in client asked, the default one would have asked too.
func TestClientMetricsOffByDefault(t *testing.T) {
	t.Parallel()
	produce := func(cl *kgo.Client) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	client := func(metrics bool) (*kgo.Client, *atomic.Int32) {
		c := kfaketest.Cluster(t, kfake.SeedTopics(1, "t"))
		asked := new(atomic.Int32)
		c.ControlKey(int16(kmsg.GetTelemetrySubscriptions), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			asked.Add(1)
			return nil, nil, false
		})
		var cfg Config
		cfg.SetDefaults()
		cfg.Brokers = c.ListenAddrs()
		cfg.ClientMetrics = metrics
		opts, err := cfg.Opts()
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		produce(cl)
		return cl, asked
	}
	quiet, quietAsked := client(false)
	_, optedAsked := client(true)
	wait.Within(t, 10*time.Second, "the opted-in client to ask for its client-metrics subscription", func() bool { return optedAsked.Load() > 0 })
	produce(quiet)
	if n := quietAsked.Load(); n != 0 {
		t.Fatalf("the default client asked for its client-metrics subscription %d times, want never (kafka.client_metrics is off by default)", n)
	}
}
