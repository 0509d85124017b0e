package trace

import (
	"testing"
	"time"
)

// TestCausationReportsUpstreamsAndProducerDuplicates: a closed chain's
// causation names each event's upstream and counts a producer duplicate
// (same id, another offset), not the same record read twice.
func TestCausationReportsUpstreamsAndProducerDuplicates(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	var got []Causation
	f.s.OnCausation(func(c Causation) { got = append(got, c) })
	in := ev{topic: "orders", offset: 1, id: "in-1", typ: "order.placed", service: "shop", correlation: "c1", at: 0}
	dup := in
	dup.offset = 2
	out := ev{topic: "relayed", offset: 1, id: "out-1", typ: "order.relayed", service: "relay", correlation: "c1", at: 10 * time.Millisecond}
	for _, e := range []ev{in, in, dup, out} {
		f.feed(e.record())
	}
	f.closeAll()
	if len(got) != 1 {
		t.Fatalf("causations = %d, want 1", len(got))
	}
	c := got[0]
	if len(c.Events) != 2 || c.Events[0].EventID != "in-1" || c.Events[1].Upstream != 0 || c.Events[0].Upstream != -1 {
		t.Fatalf("events %+v", c.Events)
	}
	if c.Redelivered["in-1"] != 1 || len(c.Redelivered) != 1 {
		t.Fatalf("redelivered %v, want in-1 once (the re-read of offset 1 is not a duplicate)", c.Redelivered)
	}
}
