package sample

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestLeaderBook: FetchedFrom names the broker a partition's records were
// last fetched from — after a leader change the new one, after a broker
// moved to another address its new address for every partition it leads
// — and nothing for a partition never fetched; a batch from the same
// leader as the last allocates nothing.
func TestLeaderBook(t *testing.T) {
	var b leaderBook
	if _, ok := b.of(topicPart{"orders", 0}); ok {
		t.Fatal("an address for a partition never fetched")
	}
	b1 := kgo.BrokerMetadata{NodeID: 1, Host: "kafka-1", Port: 9092}
	b2 := kgo.BrokerMetadata{NodeID: 2, Host: "kafka-2", Port: 9092}
	b.note(b1, topicPart{"orders", 0})
	b.note(b1, topicPart{"orders", 1})
	b.note(b2, topicPart{"payments", 0})
	want := func(topic string, p int32, addr string) {
		t.Helper()
		if got, ok := b.of(topicPart{topic, p}); !ok || got != addr {
			t.Errorf("%s/%d fetched from %q (%v), want %q", topic, p, got, ok, addr)
		}
	}
	want("orders", 0, "kafka-1:9092")
	want("orders", 1, "kafka-1:9092")
	want("payments", 0, "kafka-2:9092")
	if _, ok := b.of(topicPart{"orders", 2}); ok {
		t.Error("an address for orders/2, never fetched")
	}

	b.note(b2, topicPart{"orders", 1}) // the leader moved
	want("orders", 1, "kafka-2:9092")
	want("orders", 0, "kafka-1:9092")

	b1.Host, b1.Port = "10.0.0.7", 19092 // broker 1 came back elsewhere
	b.note(b1, topicPart{"orders", 0})
	want("orders", 0, "10.0.0.7:19092")
	b1.Host = "::1"
	b.note(b1, topicPart{"orders", 0})
	want("orders", 0, "[::1]:19092")

	if n := testing.AllocsPerRun(100, func() { b.note(b2, topicPart{"payments", 0}) }); n != 0 {
		t.Errorf("a batch from the same leader allocated %v times", n)
	}
}
