package lag

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzResolve feeds arbitrary bytes as a Fetch answer's record batches to
// the exact-time-lag decoder. Invariant: it never panics, and it answers
// only offsets it was asked for, each at most once, with a timestamp or
// "unreadable".
func FuzzResolve(f *testing.F) {
	f.Add([]byte{}, int64(0))
	f.Add(validBatch(f), int64(1))
	f.Add(validBatch(f)[:30], int64(0))
	f.Fuzz(func(t *testing.T, batches []byte, off int64) {
		l := lookup{topic: "t", part: 0, offs: []int64{off, off + 1, off + 5}}
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.RecordBatches = batches
		seen := map[int64]bool{}
		for _, r := range resolve(l, &rp, nil) {
			if r.topic != "t" || r.part != 0 || seen[r.off] || (r.off != off && r.off != off+1 && r.off != off+5) {
				t.Fatalf("unexpected answer %+v", r)
			}
			seen[r.off] = true
		}
	})
}

// validBatch is a record batch of three records (offsets 0..2, timestamps
// 1 ms apart) as a broker returns it from a Fetch.
func validBatch(tb testing.TB) []byte {
	tb.Helper()
	var b kmsg.RecordBatch
	b.Magic = 2
	b.NumRecords = 3
	b.FirstTimestamp = batchTime.UnixMilli()
	b.MaxTimestamp = b.FirstTimestamp + 2
	b.LastOffsetDelta = 2
	b.ProducerID, b.ProducerEpoch, b.FirstSequence = -1, -1, -1
	for i := range 3 {
		r := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Value: []byte("v")}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the body after its length varint (one byte here)
		b.Records = r.AppendTo(b.Records)
	}
	buf := b.AppendTo(nil)
	binary.BigEndian.PutUint32(buf[8:12], uint32(len(buf)-12))
	binary.BigEndian.PutUint32(buf[17:21], crc32.Checksum(buf[21:], crc32.MakeTable(crc32.Castagnoli)))
	return buf
}

var batchTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestResolveReadsTimestamps: the first record at or after each wanted
// offset answers it; an offset past the returned records is left for a
// later cycle.
func TestResolveReadsTimestamps(t *testing.T) {
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.RecordBatches = validBatch(t)
	got := map[int64]int64{}
	for _, r := range resolve(lookup{topic: "t", offs: []int64{0, 2, 7}}, &rp, nil) {
		got[r.off] = r.ms
	}
	want := map[int64]int64{0: batchTime.UnixMilli(), 2: batchTime.UnixMilli() + 2}
	if len(got) != len(want) || got[0] != want[0] || got[2] != want[2] {
		t.Fatalf("resolved %v, want %v", got, want)
	}
}
