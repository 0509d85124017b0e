package ledger

import (
	"context"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// TestReleasedPartitionsShareOneMarker: partitions a rebalance takes away
// all point at one marker (no allocation per partition); records and
// ranges of a released partition change nothing and leave the marker as
// it is, and a partition acquired again is accounted for from scratch.
func TestReleasedPartitionsShareOneMarker(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(3 * time.Hour))
	l, _ := newTestAggregator(t, st, store.Config{}, c)
	const topic, n = "orders", 1000
	parts := make([]int32, n)
	for i := range parts {
		parts[i] = int32(i)
		l.Acquire(topic, int32(i), 0)
	}
	observe := func(p int32, off int64) {
		rec := event.Record{Topic: topic, Partition: p, Offset: off, Timestamp: c.Now()}
		res := event.Result{Source: "svc", EventType: "order.placed"}
		l.Observe(&rec, &res)
	}
	observe(7, 0)
	l.Advance(topic, 7, 0, 1)
	l.Release(context.Background(), map[string][]int32{topic: parts})
	for _, p := range parts {
		if l.parts[tp{topic, p}] != releasedPart {
			t.Fatalf("partition %d released to its own marker", p)
		}
	}
	observe(7, 1)
	l.Advance(topic, 7, 1, 2)
	if rows := l.bufferedRows(); rows != 0 {
		t.Fatalf("records of a released partition buffered %d rows, want 0", rows)
	}
	if m := releasedPart; !m.released || m.next != -1 || m.open.size() != 0 || len(m.segs) != 0 || m.span != (openSpan{}) {
		t.Fatalf("the shared marker was written: %+v", *m)
	}
	l.Acquire(topic, 7, 1)
	observe(7, 1)
	l.Advance(topic, 7, 1, 2)
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ps, err := st.Positions(context.Background(), l.group)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int32]int64{}
	for _, p := range ps {
		got[p.Partition] = p.Offset
	}
	if len(got) != 1 || got[7] != 2 {
		t.Fatalf("stored positions %v, want only 7@2 (the range before the release, then the one after acquiring again)", got)
	}
}

// TestAcquireIsOneObjectPerPartition: what the ledger holds for an
// assigned partition is one heap object (the sampler assigns every
// partition of the estate, 10,000 at estate size, most of them idle; the
// garbage collector marks each object every cycle). The old code held the
// open buffer behind a pointer: two.
func TestAcquireIsOneObjectPerPartition(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	l, _ := newTestAggregator(t, st, store.Config{}, storetest.NewClock(mon17))
	l.Acquire("orders", 0, 0) // the map entry exists: Acquire replaces it
	if n := testing.AllocsPerRun(100, func() { l.Acquire("orders", 0, 0) }); n != 1 {
		t.Fatalf("Acquire of an assigned partition allocates %v objects, want 1", n)
	}
}
