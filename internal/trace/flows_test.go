package trace

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFlowsEndpoint(t *testing.T) {
	f := newFixture(t, Config{Window: time.Minute})
	for _, e := range threeHop("corr-http") {
		f.feed(e.record())
	}
	f.feed(ev{topic: "a", offset: 5, id: "x1", service: "upstream", correlation: "corr-b", traceparent: tp(traceB, spanA1)}.record())
	f.feed(ev{topic: "b", offset: 6, id: "x2", service: "dropper", traceparent: tp(traceB, spanA2), at: time.Second}.record())
	f.closeAll()

	mux := http.NewServeMux()
	f.s.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/flows")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(string(body), "payload-must-not-leak") {
		t.Fatal("the flows view carries a record payload")
	}
	var r Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if r.ClosedChains != 2 || len(r.Pathways) != 2 || r.Pathways[0].Count != 1 {
		t.Errorf("pathways = %+v", r.Pathways)
	}
	if len(r.BrokenChains) != 1 || r.BrokenChains[0].Breaks[0].Reason != BreakCorrelationDropped ||
		r.BrokenChains[0].Events[1].Offset != 6 || r.BrokenChains[0].Events[1].Topic != "b" {
		t.Errorf("broken chains = %+v", r.BrokenChains)
	}
	var hop *HopStats
	for i := range r.Hops {
		if r.Hops[i].From == "essaylifecycle" && r.Hops[i].To == "spellchecker" {
			hop = &r.Hops[i]
		}
	}
	if hop == nil || hop.Count != 1 || !near(hop.Latency.P50, 0.25) ||
		hop.FromType != "huleedu.essaylifecycle.essay.spellcheck_requested.v1" || hop.ToType != "huleedu.spellchecker.essay.spellcheck_completed.v1" {
		t.Errorf("hop essaylifecycle>spellchecker = %+v", hop)
	}
	if !strings.Contains(string(body), `"correlation_coverage_ratio"`) {
		t.Errorf("body lacks propagation coverage: %s", body)
	}

	resp2, err := http.Post(srv.URL+"/api/v1/flows", "application/json", nil)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d, want 405", resp2.StatusCode)
	}
}

func TestWorstBrokenChainsAreKept(t *testing.T) {
	fl := newFlows(2, 0)
	for i, n := range []int{1, 3, 2, 1} {
		b := BrokenChain{ClosedAt: t0.Add(time.Duration(i) * time.Second), Breaks: make([]Break, n)}
		fl.observeChain(delta{}, nil, b, true, true)
	}
	r := fl.report(t0)
	if len(r.BrokenChains) != 2 || len(r.BrokenChains[0].Breaks) != 3 || len(r.BrokenChains[1].Breaks) != 2 {
		t.Errorf("kept %+v, want the chains with 3 and 2 breaks", r.BrokenChains)
	}
}

func TestPercentilesWithinOnePercent(t *testing.T) {
	var s, a, b sketch
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Millisecond
		s.add(d)
		if i%2 == 0 {
			a.add(d)
		} else {
			b.add(d)
		}
	}
	a.merge(b)
	for _, sk := range []sketch{s, a} {
		p := sk.percentiles()
		if p.Samples != 1000 || !near(p.Max, 1) || !within(p.P50, 0.5, 0.01) || !within(p.P90, 0.9, 0.01) || !within(p.P99, 0.99, 0.01) {
			t.Errorf("percentiles = %+v, want 0.5, 0.9, 0.99 within 1%% and max 1", p)
		}
	}
	var one sketch
	one.add(250 * time.Millisecond)
	if p := one.percentiles(); !near(p.P50, 0.25) || !near(p.P99, 0.25) {
		t.Errorf("one latency: %+v, want it exactly", p)
	}
}

func within(got, want, rel float64) bool { return got >= want*(1-rel) && got <= want*(1+rel) }

func TestHopKeysAreBounded(t *testing.T) {
	fl := newFlows(1, 0)
	for i := range maxHopKeys + 50 {
		from := &seenEvent{Service: "a", EventType: fmt.Sprintf("a.type.v%d", i)}
		to := &seenEvent{Service: "b", EventType: "b.done.v1"}
		fl.observeChain(delta{addHops: []hop{{From: from, To: to, Latency: time.Second}}}, nil, BrokenChain{}, false, true)
	}
	r := fl.report(t0)
	if len(r.Hops) != maxHopKeys+1 {
		t.Fatalf("hops = %d, want %d + one other", len(r.Hops), maxHopKeys)
	}
	if r.Hops[0].FromType != otherLabel || r.Hops[0].Count != 50 {
		t.Errorf("first hop = %+v, want the 50 hops beyond the bound as other", r.Hops[0])
	}
}

// TestMergeFlowsEqualsOneStitcher: chains split between two stitchers and
// merged (through JSON, as replicas share them) give the report one
// stitcher that saw every chain gives.
func TestMergeFlowsEqualsOneStitcher(t *testing.T) {
	one, a, b := newFixture(t, Config{Window: time.Minute}), newFixture(t, Config{Window: time.Minute}), newFixture(t, Config{Window: time.Minute})
	for i := range 6 {
		half := a
		if i%2 == 1 {
			half = b
		}
		for _, e := range threeHop(fmt.Sprintf("corr-%d", i)) {
			e.id += fmt.Sprint(i)
			e.traceparent = strings.Replace(e.traceparent, traceA, fmt.Sprintf("%032x", i+1), 1)
			e.at += time.Duration(i) * 10 * time.Millisecond
			one.feed(e.record())
			half.feed(e.record())
		}
	}
	one.feed(ev{topic: "a", offset: 5, id: "x1", service: "upstream", correlation: "corr-b", traceparent: tp(traceB, spanA1)}.record())
	one.feed(ev{topic: "b", offset: 6, id: "x2", service: "dropper", traceparent: tp(traceB, spanA2), at: time.Second}.record())
	b.feed(ev{topic: "a", offset: 5, id: "x1", service: "upstream", correlation: "corr-b", traceparent: tp(traceB, spanA1)}.record())
	b.feed(ev{topic: "b", offset: 6, id: "x2", service: "dropper", traceparent: tp(traceB, spanA2), at: time.Second}.record())
	for _, f := range []*fixture{one, a, b} {
		f.closeAll()
	}
	var docs []FlowsDoc
	for _, f := range []*fixture{a, b} {
		raw, err := json.Marshal(f.s.FlowsDoc())
		if err != nil {
			t.Fatal(err)
		}
		var d FlowsDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	wantR, gotR := one.s.FlowsDoc().Report(t0), MergeFlows(DefaultBrokenChains, docs...).Report(t0)
	if len(wantR.RecentChains) != 7 || len(gotR.RecentChains) != 7 {
		t.Errorf("recent chains: one stitcher %d, merged %d, want 7", len(wantR.RecentChains), len(gotR.RecentChains))
	}
	wantR.RecentChains, gotR.RecentChains = nil, nil // which closed last differs with the order of closing
	want, _ := json.Marshal(wantR)
	got, _ := json.Marshal(gotR)
	if string(got) != string(want) {
		t.Errorf("merged report\n%s\nwant\n%s", got, want)
	}
}
