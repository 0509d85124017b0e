package lag

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recsAt are records at offsets, each stamped its offset in seconds.
func recsAt(offs ...int64) []*kgo.Record {
	out := make([]*kgo.Record, len(offs))
	for i, o := range offs {
		out[i] = &kgo.Record{Offset: o, Timestamp: time.UnixMilli(o * 1000)}
	}
	return out
}

// TestSeenTimesAnswersOnlyWhatItKnows: the timestamp of the first record
// at or after an offset is answered for an offset read, or in a gap
// inside one contiguous read (control records, compacted offsets); never
// across fetches that do not join, before the oldest record kept, or
// past the newest.
func TestSeenTimesAnswersOnlyWhatItKnows(t *testing.T) {
	s := NewSeenTimes()
	s.NoteRecords("t", 0, recsAt(10, 11, 13)) // 12: a transaction marker
	s.NoteRecords("t", 0, recsAt(14, 15))     // joins: 14 follows 13
	s.NoteRecords("t", 0, recsAt(20, 21))     // after a gap between fetches (not known what 16..19 hold)
	for _, tc := range []struct {
		off  int64
		want int64 // seconds; -1: unknown
	}{{10, 10}, {11, 11}, {12, 13}, {13, 13}, {15, 15}, {16, -1}, {19, -1}, {20, 20}, {21, 21}, {22, -1}, {9, -1}} {
		ms, ok := s.stamp("t", 0, tc.off)
		if ok != (tc.want >= 0) || ok && ms != tc.want*1000 {
			t.Errorf("offset %d: %d ms (known %t), want %d s", tc.off, ms, ok, tc.want)
		}
	}
	if _, ok := s.stamp("t", 1, 10); ok {
		t.Error("a partition never read answered")
	}

	s.NoteRecords("t", 0, recsAt(5, 6)) // read again from earlier: starts over
	if _, ok := s.stamp("t", 0, 20); ok {
		t.Error("a rewound partition still answers what it read before")
	}
	var many []int64
	for o := int64(100); o < 100+2*seenPerPartition; o++ {
		many = append(many, o)
	}
	s.NoteRecords("t", 0, recsAt(many...))
	first := int64(100 + seenPerPartition) // the oldest kept
	if _, ok := s.stamp("t", 0, first-1); ok {
		t.Error("an offset older than the records kept answered")
	}
	if ms, ok := s.stamp("t", 0, first); !ok || ms != first*1000 {
		t.Errorf("oldest kept offset %d: %d, %t", first, ms, ok)
	}
}
