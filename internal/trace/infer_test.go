package trace

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// fanOut is one batch event (a) caused two essay events (b1, b2), each
// caused one spellcheck event (c1, c2), all in one trace (the services
// continue it, as the kafkajs and Java instrumentations do). The truth is
// cross-wise in time: c1 (caused by b2) comes before c2 (caused by b1),
// which partition order cannot tell when each stage sits in one partition
// and the spellchecker answers out of order.
func fanOut(bPart, cPart [2]int32) []ev {
	const trace = "5bf92f3577b34da6a3ce929d0e0e4736"
	return []ev{
		{topic: "batch", offset: 1, id: "a", typ: "batch.registered.v1", service: "batch", correlation: "c", key: "batch-1",
			traceparent: tp(trace, "a000000000000001"), at: 0},
		{topic: "essay", partition: bPart[0], offset: 1, id: "b1", typ: "essay.requested.v1", service: "essay", correlation: "c", key: "essay-1",
			traceparent: tp(trace, "b000000000000001"), at: 100 * time.Millisecond},
		{topic: "essay", partition: bPart[1], offset: 2, id: "b2", typ: "essay.requested.v1", service: "essay", correlation: "c", key: "essay-2",
			traceparent: tp(trace, "b000000000000002"), at: 120 * time.Millisecond},
		{topic: "spell", partition: cPart[0], offset: 1, id: "c1", typ: "spell.done.v1", service: "spell", correlation: "c",
			traceparent: tp(trace, "c000000000000001"), at: 300 * time.Millisecond},
		{topic: "spell", partition: cPart[1], offset: 2, id: "c2", typ: "spell.done.v1", service: "spell", correlation: "c",
			traceparent: tp(trace, "c000000000000002"), at: 350 * time.Millisecond},
	}
}

// fanOutTruth is the event id that caused each event of fanOut.
var fanOutTruth = map[string]string{"a": "", "b1": "a", "b2": "a", "c1": "b2", "c2": "b1"}

// fanOutSpans are the spans the services' tracers export for fanOut: a
// root send span for a, and for every relayed event a process span
// (CONSUMER, the child of the consumed record's send span) and under it
// the send span that published the event.
func fanOutSpans(t *testing.T, evs []ev) []byte {
	t.Helper()
	sendOf := map[string]string{}
	for _, e := range evs {
		sendOf[e.id] = e.traceparent[36:52]
	}
	var spans []*tracepb.Span
	for i, e := range evs {
		tid, send := unhex(t, e.traceparent[3:35]), unhex(t, sendOf[e.id])
		up := fanOutTruth[e.id]
		if up == "" {
			spans = append(spans, &tracepb.Span{TraceId: tid, SpanId: send, Kind: tracepb.Span_SPAN_KIND_PRODUCER, Name: "send " + e.topic})
			continue
		}
		process := unhex(t, fmt.Sprintf("d0000000000000%02x", i))
		spans = append(spans,
			&tracepb.Span{TraceId: tid, SpanId: process, ParentSpanId: unhex(t, sendOf[up]), Kind: tracepb.Span_SPAN_KIND_CONSUMER, Name: "process"},
			&tracepb.Span{TraceId: tid, SpanId: send, ParentSpanId: process, Kind: tracepb.Span_SPAN_KIND_PRODUCER, Name: "send " + e.topic})
	}
	b, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upstreamsOf reads every event's upstream (event id, "" for none) and
// causation from the chain /api/v1/flows shows.
func upstreamsOf(t *testing.T, r Report) (map[string]string, map[string]Cause) {
	t.Helper()
	if len(r.RecentChains) != 1 {
		t.Fatalf("recent chains = %d, want 1", len(r.RecentChains))
	}
	evs := r.RecentChains[0].Events
	up, how := map[string]string{}, map[string]Cause{}
	for _, e := range evs {
		up[e.EventID], how[e.EventID] = "", e.Causation
		if e.Upstream >= 0 {
			up[e.EventID] = evs[e.Upstream].EventID
		}
	}
	return up, how
}

func TestFanOutWithSpansIsExact(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute, Spans: SpansConfig{HTTP: true}})
	evs := fanOut([2]int32{0, 0}, [2]int32{0, 0})
	for _, e := range evs {
		f.feed(e.record())
	}
	if err := f.s.ObserveSpans(fanOutSpans(t, evs)); err != nil {
		t.Fatal(err)
	}
	sb := <-f.s.spansIn
	f.s.holdSpans(f.s.spanIdx, sb.trace, sb.spans, f.clk.now)
	f.closeAll()
	r := f.s.Flows()
	up, how := upstreamsOf(t, r)
	for id, want := range fanOutTruth {
		if up[id] != want || how[id] != CauseExact {
			t.Errorf("%s: upstream %q (%s), want %q exact", id, up[id], how[id], want)
		}
	}
	if len(r.Pathways) != 1 || r.Pathways[0].Count != 2 || r.Pathways[0].Exact != 2 {
		t.Errorf("pathways = %+v, want batch>essay>spell twice, exact", r.Pathways)
	}
	if got := counter(t, f.reg, "eventwatch_trace_spans_total", map[string]string{"outcome": "edge"}); got != 5 {
		t.Errorf("edges = %v, want 5", got)
	}
}

func TestFanOutWithoutSpansNeverGuesses(t *testing.T) {
	cases := []struct {
		name       string
		bPart      [2]int32
		cPart      [2]int32
		ambiguous  int
		wantUp     map[string]string
		wantHopsBC uint64
	}{
		// Each stage in one partition, as many c as b: partition order
		// decides (FIFO), which assumes what Kafka consumers do — one
		// partition handled in order. (fanOutTruth's spellchecker answered
		// out of order: only spans can tell that, see the test above.)
		{"fifo", [2]int32{0, 0}, [2]int32{0, 0}, 0, map[string]string{"a": "", "b1": "a", "b2": "a", "c1": "b1", "c2": "b2"}, 2},
		// Stages over several partitions: order unknown, nothing guessed.
		{"order unknown", [2]int32{0, 1}, [2]int32{0, 1}, 2, map[string]string{"a": "", "b1": "a", "b2": "a", "c1": "", "c2": ""}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{Window: time.Minute})
			for _, e := range fanOut(tc.bPart, tc.cPart) {
				f.feed(e.record())
			}
			f.closeAll()
			r := f.s.Flows()
			up, _ := upstreamsOf(t, r)
			for id, want := range tc.wantUp {
				if up[id] != want {
					t.Errorf("%s: upstream %q, want %q", id, up[id], want)
				}
			}
			if r.Causation.Ambiguous != uint64(tc.ambiguous) {
				t.Errorf("ambiguous = %d, want %d", r.Causation.Ambiguous, tc.ambiguous)
			}
			// The pathway is known either way (both candidates lead back to a):
			// two flows batch>essay>spell, never a phantom batch>essay.
			if len(r.Pathways) != 1 || r.Pathways[0].Pathway != "batch>essay>spell" || r.Pathways[0].Count != 2 {
				t.Errorf("pathways = %+v, want batch>essay>spell twice", r.Pathways)
			}
			if h := hopCount(r, "essay", "spell"); h != tc.wantHopsBC {
				t.Errorf("essay>spell hops = %d, want %d", h, tc.wantHopsBC)
			}
		})
	}
}

// TestKeysDecideWithoutSpans: the downstream event carries the upstream's
// resource key, so inference needs no order.
func TestKeysDecideWithoutSpans(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	evs := fanOut([2]int32{0, 1}, [2]int32{0, 1})
	evs[3].key, evs[4].key = "essay-2", "essay-1"
	for _, e := range evs {
		f.feed(e.record())
	}
	f.closeAll()
	up, how := upstreamsOf(t, f.s.Flows())
	for id, want := range fanOutTruth {
		if up[id] != want {
			t.Errorf("%s: upstream %q (%s), want %q", id, up[id], how[id], want)
		}
	}
}

// TestNoSameServiceHopByInference: a chain whose earlier events were all
// published by the same service (a consumer that caught up after its chain
// was forgotten) has no hop: a service is not taken for its own cause.
func TestNoSameServiceHopByInference(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute, LateWindow: -1})
	for i := range 3 {
		f.feed(ev{topic: "spell", offset: int64(i), id: fmt.Sprint("c", i), typ: "spell.done.v1", service: "spell",
			correlation: "late", at: time.Duration(i) * time.Second}.record())
	}
	f.closeAll()
	r := f.s.Flows()
	if len(r.Hops) != 0 || len(r.Pathways) != 0 || r.Causation.Root != 3 {
		t.Errorf("hops %+v pathways %+v causation %+v, want none and 3 roots", r.Hops, r.Pathways, r.Causation)
	}
}

func hopCount(r Report, from, to string) uint64 {
	var n uint64
	for _, h := range r.Hops {
		if h.From == from && h.To == to {
			n += h.Count
		}
	}
	return n
}

// FuzzDecodeSpans: any bytes decode or fail with an error, never panic;
// every decoded span has valid ids.
func FuzzDecodeSpans(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		batches, err := decodeSpans(b)
		if err != nil {
			return
		}
		for _, sb := range batches {
			for _, sp := range sb.spans {
				if !sb.trace.IsValid() || !sp.Span.IsValid() {
					t.Fatalf("invalid ids decoded: %+v", sb)
				}
			}
		}
	})
}

// TestProcessSpanNamesItsRecord: the essay service does not trace (its
// records carry no traceparent), but the spellchecker's process spans name
// the record they consumed (topic, partition, offset, as the kafkajs
// instrumentation and the Java agent record): the spellcheck events'
// upstreams are still exact, through the uninstrumented hop.
func TestProcessSpanNamesItsRecord(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	evs := fanOut([2]int32{0, 1}, [2]int32{0, 1})
	evs[1].traceparent, evs[2].traceparent = "", ""
	for _, e := range evs {
		f.feed(e.record())
	}
	const trace = "5bf92f3577b34da6a3ce929d0e0e4736"
	str := func(v string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}
	}
	var spans []*tracepb.Span
	for i, c := range evs[3:] {
		b := map[string]ev{"b1": evs[1], "b2": evs[2]}[fanOutTruth[c.id]]
		process := unhex(t, fmt.Sprintf("e00000000000000%d", i))
		spans = append(spans,
			&tracepb.Span{TraceId: unhex(t, trace), SpanId: process, Kind: tracepb.Span_SPAN_KIND_CONSUMER, Name: "process " + b.topic,
				Attributes: []*commonpb.KeyValue{{Key: "messaging.destination.name", Value: str(b.topic)},
					{Key: "messaging.destination.partition.id", Value: str(fmt.Sprint(b.partition))},
					{Key: "messaging.kafka.offset", Value: str(fmt.Sprint(b.offset))}}},
			&tracepb.Span{TraceId: unhex(t, trace), SpanId: unhex(t, c.traceparent[36:52]), ParentSpanId: process,
				Kind: tracepb.Span_SPAN_KIND_PRODUCER, Name: "send " + c.topic})
	}
	body, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.ObserveSpans(body); err != nil {
		t.Fatal(err)
	}
	sb := <-f.s.spansIn
	f.s.holdSpans(f.s.spanIdx, sb.trace, sb.spans, f.clk.now)
	f.closeAll()
	up, how := upstreamsOf(t, f.s.Flows())
	for _, id := range []string{"c1", "c2"} {
		if up[id] != fanOutTruth[id] || how[id] != CauseExact {
			t.Errorf("%s: upstream %q (%s), want %q exact", id, up[id], how[id], fanOutTruth[id])
		}
	}
}

// TestOTLPHTTPReceiver: POST /v1/traces takes a protobuf
// ExportTraceServiceRequest (gzip too) for the join; a body that is not one
// is a 400 and counted, never a crash; another content type is a 415.
func TestOTLPHTTPReceiver(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute, Spans: SpansConfig{HTTP: true}})
	body := fanOutSpans(t, fanOut([2]int32{0, 0}, [2]int32{0, 0}))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	for _, tc := range []struct {
		name, ctype, encoding string
		body                  []byte
		want                  int
	}{
		{"protobuf", "application/x-protobuf", "", body, http.StatusOK},
		{"gzip", "application/x-protobuf", "gzip", gz.Bytes(), http.StatusOK},
		{"not protobuf", "application/x-protobuf", "", []byte("\xff\xff\xff garbage"), http.StatusBadRequest},
		{"bad gzip", "application/x-protobuf", "gzip", []byte("nope"), http.StatusBadRequest},
		{"json", "application/json", "", []byte("{}"), http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			w := httptest.NewRecorder()
			f.s.ServeOTLP(w, req)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d: %s", w.Code, tc.want, w.Body.String())
			}
		})
	}
	if got := len(f.s.spansIn); got != 2 { // one batch (one trace) per accepted request
		t.Errorf("span batches queued = %d, want 2", got)
	}
	if got := counter(t, f.reg, "eventwatch_trace_spans_total", map[string]string{"outcome": "bad_message"}); got != 1 {
		t.Errorf("bad messages = %v, want 1", got)
	}
}
