package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

// TestEndOffsets compares EndOffsets with kadm's listing after records
// were produced to some partitions, and checks that it asks for the one
// topic's metadata only: no Metadata request for all topics, and none
// naming another topic.
func TestEndOffsets(t *testing.T) {
	t.Parallel()
	opts := []kfake.Opt{kfake.SeedTopics(3, "state")}
	for i := range 20 {
		opts = append(opts, kfake.SeedTopics(5, fmt.Sprintf("other-%d", i)))
	}
	c := kfaketest.Cluster(t, opts...)
	cl := kfaketest.Client(t, c, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for p, n := range []int{4, 0, 7} {
		for range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "state", Partition: int32(p), Value: []byte("v")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wide []string
	c.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		m := req.(*kmsg.MetadataRequest)
		if m.Topics == nil {
			wide = append(wide, "all topics")
		}
		for _, tp := range m.Topics {
			if tp.Topic != nil && *tp.Topic != "state" {
				wide = append(wide, *tp.Topic)
			}
		}
		return nil, nil, false
	})
	reader := kfaketest.Client(t, c, kgo.ConsumeTopics("state")) // as the share board reads
	got, err := EndOffsets(ctx, reader, "state")
	if err != nil {
		t.Fatal(err)
	}
	c.DropControl()
	if len(wide) > 0 {
		t.Errorf("EndOffsets asked for metadata beyond its topic: %v", wide)
	}
	want := map[int32]int64{0: 4, 1: 0, 2: 7}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("end offsets %v, want %v", got, want)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, "state")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if got[o.Partition] != o.Offset {
			t.Errorf("partition %d: %d, kadm says %d", o.Partition, got[o.Partition], o.Offset)
		}
	})
	if _, err := EndOffsets(ctx, reader, "missing"); err == nil {
		t.Error("EndOffsets of a missing topic: no error")
	}
}
