package sample

import (
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/store"
)

// TestCommitLooksAtWhatMoved: the stored positions to commit are those
// stored since their last commit, of assigned partitions only (or of the
// partitions asked for, on revoke); a commit that lands after the
// position moved again leaves it to commit; a partition stored while not
// assigned is committed once it is.
func TestCommitLooksAtWhatMoved(t *testing.T) {
	s := &Sampler{stored: map[string]map[int32]int64{}, committed: map[string]map[int32]int64{}, moved: map[topicPart]struct{}{}}
	s.assigned.Store(map[string][]int32{"orders": {0, 1}})
	want := func(step string, got map[string]map[int32]kgo.EpochOffset, exp map[string]map[int32]int64) {
		t.Helper()
		flat := map[string]map[int32]int64{}
		for topic, ps := range got {
			flat[topic] = map[int32]int64{}
			for p, eo := range ps {
				flat[topic][p] = eo.Offset
			}
		}
		if !maps.EqualFunc(flat, exp, func(a, b map[int32]int64) bool { return maps.Equal(a, b) }) {
			t.Errorf("%s: to commit %v, want %v", step, flat, exp)
		}
	}
	if got := s.uncommitted(nil); len(got) != 0 {
		t.Fatalf("nothing stored: to commit %v", got)
	}
	s.Stored([]store.Position{{Topic: "orders", Partition: 0, Offset: 5}, {Topic: "orders", Partition: 1, Offset: 3}, {Topic: "late", Partition: 0, Offset: 1}})
	first := s.uncommitted(nil)
	want("first stored", first, map[string]map[int32]int64{"orders": {0: 5, 1: 3}})
	s.markCommitted(first)
	want("after the commit", s.uncommitted(nil), map[string]map[int32]int64{})

	s.Stored([]store.Position{{Topic: "orders", Partition: 0, Offset: 7}})
	second := s.uncommitted(nil)
	want("one moved", second, map[string]map[int32]int64{"orders": {0: 7}})
	s.Stored([]store.Position{{Topic: "orders", Partition: 0, Offset: 9}}) // while the commit of 7 is in flight
	s.markCommitted(second)
	want("moved again during the commit", s.uncommitted(nil), map[string]map[int32]int64{"orders": {0: 9}})
	want("on revoke of partition 1 only", s.uncommitted(map[string][]int32{"orders": {1}}), map[string]map[int32]int64{})

	s.assigned.Store(map[string][]int32{"orders": {0, 1}, "late": {0}})
	want("stored before it was assigned", s.uncommitted(nil), map[string]map[int32]int64{"orders": {0: 9}, "late": {0: 1}})
	s.markCommitted(s.uncommitted(nil))
	if got := s.uncommitted(nil); len(got) != 0 || len(s.moved) != 0 {
		t.Errorf("everything committed: to commit %v, %d partitions still marked moved", got, len(s.moved))
	}
}
