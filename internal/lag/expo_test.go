package lag

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime"
	"testing"
)

// TestExpositionReusesItsEncoder: a cycle's exposition allocates its two
// buffers (sized from the previous cycle's) and little else — the gzip
// compressor and the write buffer come from a pool (a fresh compressor is
// 900 KB, every cycle) — and a pooled compressor still
// writes a complete gzip member equal to the plain text.
func TestExpositionReusesItsEncoder(t *testing.T) {
	snap := &Snapshot{Groups: pageGroupCases()}
	prev, err := newExposition(snap, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	least := uint64(1 << 62)
	for range 5 { // the least of five: a collection may empty the pool once
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e, err := newExposition(snap, false, prev)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
		zr, err := gzip.NewReader(bytes.NewReader(e.gz))
		if err != nil {
			t.Fatal(err)
		}
		text, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(text, e.plain) || len(text) == 0 {
			t.Fatalf("gzip member decodes to %d bytes (%v), want the %d of the plain text", len(text), err, len(e.plain))
		}
		prev = e
	}
	buffers := uint64(len(prev.gz)+len(prev.gz)/8) + uint64(len(prev.plain)+len(prev.plain)/8)
	if budget := buffers + 32<<10; least > budget {
		t.Errorf("an exposition allocated %d bytes, want at most %d (its buffers %d and 32 KiB): its compressor or write buffer is not reused", least, budget, buffers)
	}
}
