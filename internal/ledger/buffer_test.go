package ledger

import (
	"testing"

	"github.com/eventwatch/eventwatch/internal/store"
)

// TestEmptyBufferAllocatesNoMaps: a buffer allocates its maps on first
// use, so the ledger's per-partition buffers (one per partition the
// sampler reads, renewed at every Advance) cost one small object while
// empty; once used, it holds and merges rows as before.
func TestEmptyBufferAllocatesNoMaps(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = newBuffer() }); n > 1 {
		t.Fatalf("newBuffer allocates %v objects, want 1 (the buffer; maps on first use)", n)
	}
	b := newBuffer()
	if b.size() != 0 || len(b.batch().Records) != 0 {
		t.Fatal("an empty buffer has rows")
	}
	k := recKey{hour: 1, service: "s", topic: "t", eventType: "e"}
	ok := b.addRecord(k, counts{2, 1}, 10) && b.addViolation(violKey{rec: k, rule: "r"}, 3, 10) &&
		b.addExample(exKey{"r", "s", "t"}, store.Example{Rule: "r"}, 2, 10) && b.addCluster(clusterKey{1, store.KindDLQGrowth, "q"}, clusterVal{4, 0}, 10)
	if !ok || b.size() != 4 {
		t.Fatalf("added 4 rows: ok %v, size %d", ok, b.size())
	}
	dst := newBuffer()
	if dropped := b.mergeInto(dst, 2, 10); dropped != 0 || dst.size() != 4 {
		t.Fatalf("merged into an empty buffer: dropped %d, size %d", dropped, dst.size())
	}
	got := dst.batch()
	if got.Records[0].Checked != 2 || got.Violations[0].Violations != 3 || len(got.Examples) != 1 || got.Cluster[0].Value != 4 {
		t.Fatalf("merged batch %+v", got)
	}
}
