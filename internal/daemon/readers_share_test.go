package daemon

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/readers"
)

// TestReadersPositionsKeyedByPartition: a replica's shared positions are
// one item per (topic, partition), keyed by them — not by position in the
// list, which topics of more than ten partitions used to force (numeric
// order is not key order) — so a partition seen later adds one record
// and leaves every other item's key, and so its record, as it was.
func TestReadersPositionsKeyedByPartition(t *testing.T) {
	x := readers.NewIndex(nil)
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	observe := func(topic string, p int32) {
		x.Observe(&event.Record{Topic: topic, Partition: p, Offset: 1, Timestamp: at}, &event.Result{EventType: "order.placed", Version: "1", Source: "shop"})
	}
	for p := range int32(12) {
		if p != 5 {
			observe("orders", p)
		}
	}
	observe("payments", 0)
	keys := func() []string {
		pos, left := x.ExportPositions()
		raw, err := json.Marshal(readers.ReplicaDoc{Positions: pos})
		if err != nil || left != 0 {
			t.Fatalf("marshal: %v, %d left out", err, left)
		}
		_, items, err := readersKind.Split(raw)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items["positions"] {
			out = append(out, it.Key)
		}
		return out
	}
	before := keys()
	if len(before) != 12 || strings.HasPrefix(before[0], "#") || before[0] != "orders\x1f0" || before[2] != "orders\x1f10" {
		t.Fatalf("position keys %q: want one per partition, keyed by topic and partition", before)
	}
	observe("orders", 5)
	after := keys()
	if len(after) != 13 {
		t.Fatalf("after a new partition: %q", after)
	}
	for _, k := range before {
		if !strings.Contains(strings.Join(after, "|"), k) {
			t.Errorf("key %q changed when partition 5 arrived", k)
		}
	}
}
