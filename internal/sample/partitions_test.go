package sample

import (
	"fmt"
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	p := newPartState()
	t0 := time.Unix(1000, 0)
	taken := 0
	for range 100 {
		if p.take(t0, 10) {
			taken++
		}
	}
	if taken != 10 {
		t.Fatalf("burst: took %d, want 10", taken)
	}
	if p.take(t0.Add(50*time.Millisecond), 10) {
		t.Fatalf("took a token after 50ms at 10/s")
	}
	if !p.take(t0.Add(150*time.Millisecond), 10) {
		t.Fatalf("no token after 150ms at 10/s")
	}
	// A long pause refills at most one second of budget.
	taken = 0
	for range 100 {
		if p.take(t0.Add(time.Hour), 10) {
			taken++
		}
	}
	if taken != 10 {
		t.Fatalf("after a pause: took %d, want 10", taken)
	}
	// A budget below one per second still allows one record.
	q := newPartState()
	if !q.take(t0, 0.2) || q.take(t0, 0.2) || !q.take(t0.Add(5*time.Second), 0.2) {
		t.Fatalf("fractional budget misbehaves")
	}
}

func TestObserveCountsOffsets(t *testing.T) {
	p := newPartState()
	got := []int64{p.observe(40), p.observe(41), p.observe(45), p.observe(43), p.observe(46)}
	want := []int64{1, 1, 4, 0, 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("observe deltas = %v, want %v", got, want)
	}
	p.hwm = 50
	if p.lag() != 3 {
		t.Fatalf("lag = %d, want 3", p.lag())
	}
}

func TestPartitionsAssignRemove(t *testing.T) {
	ps := partitions{}
	ps.assign(map[string][]int32{"a": {0, 1}, "b": {0}})
	ps.get("a", 0).observe(5)
	ps.assign(map[string][]int32{"a": {0, 2}})
	if ps.count() != 4 || ps.get("a", 0).next != 6 {
		t.Fatalf("assign lost state: count %d", ps.count())
	}
	gone := ps.remove(map[string][]int32{"b": {0}, "a": {1}})
	if fmt.Sprint(gone) != "[b]" || ps.get("b", 0) != nil || ps.count() != 2 {
		t.Fatalf("remove: gone %v count %d", gone, ps.count())
	}
}

// TestAssignAllocatesPerTopic: assigning a topic's partitions allocates
// their states in one block (and the topic's map), not one object per
// partition; each state still starts unknown and live.
func TestAssignAllocatesPerTopic(t *testing.T) {
	parts := make([]int32, 1000)
	for i := range parts {
		parts[i] = int32(i)
	}
	tps := map[string][]int32{"orders": parts}
	allocs := testing.AllocsPerRun(5, func() { partitions{}.assign(tps) })
	if allocs > 100 {
		t.Errorf("assigning 1,000 partitions of one topic took %.0f allocations, want the block and the map's (< 100)", allocs)
	}
	ps := partitions{}
	ps.assign(tps)
	ps.assign(map[string][]int32{"orders": {999, 1000}})
	for _, p := range []int32{0, 999, 1000} {
		st := ps.get("orders", p)
		if st == nil || st.next != -1 || st.pos != -1 || st.hwm != -1 || !st.live.Load() {
			t.Fatalf("partition %d: state %+v, want unknown offsets and live", p, st)
		}
	}
	if ps.get("orders", 0) == ps.get("orders", 1) {
		t.Fatal("two partitions share one state")
	}
}
