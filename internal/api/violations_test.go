package api

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

func violationServer(t *testing.T) (*testAgg, *httptest.Server, *storetest.Clock) {
	t.Helper()
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(time.Hour))
	a, _ := newTestAggregator(t, st, store.Config{MaxExamples: 3}, c)
	a.SetOwnership(team.New([]team.Team{{Name: "commerce", Services: []string{"orders", "billing"}}}, nil))
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return a, srv, c
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// TestViolationsAPI: examples carry their reason and owner, filters by
// rule, service and team select the right ones, and the cursor pages
// through all of them.
func TestViolationsAPI(t *testing.T) {
	a, srv, _ := violationServer(t)
	observeAll(a, dataset(7, 400, a.now()))
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var page store.ExamplePage
	if code := getJSON(t, srv.URL+"/api/v1/violations?team=commerce&limit=5", &page); code != 200 || len(page.Examples) != 5 || page.Next == "" {
		t.Fatalf("team page: %d, %d examples, next %q", code, len(page.Examples), page.Next)
	}
	seen := 0
	for url := srv.URL + "/api/v1/violations?team=commerce&limit=5"; ; {
		var p store.ExamplePage
		getJSON(t, url, &p)
		for _, e := range p.Examples {
			seen++
			if e.Team != "commerce" || (e.Service != "orders" && e.Service != "billing") || e.Message == "" || e.Rule == "" {
				t.Fatalf("team example %+v", e)
			}
		}
		if p.Next == "" {
			break
		}
		url = srv.URL + "/api/v1/violations?team=commerce&limit=5&cursor=" + p.Next
	}
	// 2 services x 4 rules x 1 topic each, 3 kept per key
	if seen != 2*4*3 {
		t.Errorf("paged %d team examples, want 24", seen)
	}
	getJSON(t, srv.URL+"/api/v1/violations?rule=key.missing&service=shipping", &page)
	if len(page.Examples) != 3 || page.Examples[0].Team != "shipping" || page.Examples[0].Rule != "key.missing" {
		t.Errorf("rule+service filter: %+v", page.Examples)
	}
	for _, bad := range []string{"limit=0", "since=yesterday", "cursor=zzz"} {
		if code := getJSON(t, srv.URL+"/api/v1/violations?"+bad, &page); code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", bad, code)
		}
	}
}

// TestViolationStream: a subscriber sees matching violations as they are
// observed, as Server-Sent Events.
func TestViolationStream(t *testing.T) {
	a, srv, _ := violationServer(t)
	resp, err := http.Get(srv.URL + "/api/v1/violations/stream?rule=key.missing&team=commerce")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	rec := event.Record{Topic: "orders.events", Partition: 2, Offset: 77}
	res := event.Result{Source: "orders", EventType: "orders.thing.happened.v1", EventID: "evt-77", Profile: "authorworks",
		Violations: []event.Violation{{Rule: "naming.topic", Severity: "warning", Message: "other rule"},
			{Rule: "key.missing", Severity: "error", Message: "record has no key"}}}
	wait.For(t, "the stream to subscribe", func() bool { return a.live.n.Load() > 0 })
	a.Observe(&rec, &res)
	sc := bufio.NewScanner(resp.Body)
	deadline := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e store.Example
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatal(err)
		}
		if e.Rule != "key.missing" || e.Topic != "orders.events" || e.Partition != 2 || e.Offset != 77 || e.Team != "commerce" ||
			e.Profile != "authorworks" || e.Message != "record has no key" || e.EventID != "evt-77" {
			t.Fatalf("streamed %+v", e)
		}
		return
	}
	t.Fatal("no violation event on the stream")
}

// TestSlowStreamClientIsDropped: a subscriber that never reads is dropped
// and counted once its buffer fills, and Observe never blocks on it.
func TestSlowStreamClientIsDropped(t *testing.T) {
	a, _, _ := violationServer(t)
	sub := a.Subscribe(Filter{})
	defer a.Unsubscribe(sub)
	obs := dataset(3, 3000, a.now())
	start := time.Now()
	observeAll(a, obs)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("observing took %s with a stuck client", d)
	}
	select {
	case <-sub.Gone:
	default:
		t.Fatal("the slow client was not dropped")
	}
	if n := testutil.ToFloat64(a.live.dropped); n != 1 {
		t.Errorf("dropped clients = %v, want 1", n)
	}
	if n := testutil.ToFloat64(a.live.clients); n != 0 {
		t.Errorf("clients = %v, want 0", n)
	}
}

// TestStreamOutlivesWriteTimeout: the stream clears the server's write
// deadline, so an event after the WriteTimeout still reaches the client.
// The event is observed only once a probe connection, accepted after the
// stream's, has hit its own write timeout: the stream's deadline has then
// passed for sure, however slow the machine.
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	a, _ := newTestAggregator(t, st, store.Config{}, storetest.NewClock(mon17))
	mux := http.NewServeMux()
	a.Routes(mux)
	expired := make(chan struct{})
	mux.HandleFunc("/probe", writeUntilDeadline(expired))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.WriteTimeout = 50 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/violations/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	probe, err := http.Get(srv.URL + "/probe") // a second connection: the stream's is busy
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Body.Close()
	select {
	case <-expired:
	case <-time.After(10 * time.Second):
		t.Fatal("the probe connection never hit the server's write timeout")
	}
	rec := event.Record{Topic: "t", Offset: 1}
	res := event.Result{Source: "s", Violations: []event.Violation{{Rule: "key.missing", Severity: "error", Message: "no key"}}}
	a.Observe(&rec, &res)
	sc := bufio.NewScanner(resp.Body)
	deadline := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), `"rule":"key.missing"`) {
			return
		}
	}
	t.Fatal("the stream ended at the server's write timeout")
}

// writeUntilDeadline is a handler that flushes a comment line every few
// milliseconds until a write fails (the server's WriteTimeout passed for its
// connection), then closes expired.
func writeUntilDeadline(expired chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, err := w.Write([]byte(": alive\n")); err != nil {
				break
			}
			if rc.Flush() != nil {
				break
			}
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
		close(expired)
	}
}

// TestFramedViolationCarriesSchemaID: a violating record whose value is
// framed for the Confluent Schema Registry, audited by the real engine,
// has its schema id on the streamed example and on the stored one the
// violations API serves; the same record unframed has none.
func TestFramedViolationCarriesSchemaID(t *testing.T) {
	a, srv, _ := violationServer(t)
	p, err := policy.LoadProfile("huleedu")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := audit.NewEngine(audit.Options{Profile: p, Now: a.now})
	if err != nil {
		t.Fatal(err)
	}
	value := []byte(`{"event_type":"BadName","source_service":"orders","data":{}}`) // no event_id, a bad type name
	framed := append([]byte{0, 0, 0, 0, 42}, value...)                              // magic byte 0, schema id 42
	recs := []event.Record{{Topic: "orders.events", Partition: 1, Offset: 10, Value: framed, Timestamp: a.now()},
		{Topic: "orders.events", Partition: 1, Offset: 11, Value: value, Timestamp: a.now()}}
	results := make([]event.Result, len(recs))
	for i := range recs {
		results[i] = eng.Check(&recs[i])
		if len(results[i].Violations) == 0 {
			t.Fatalf("record %d has no violation", i)
		}
		for _, v := range results[i].Violations {
			if v.Rule == "envelope.invalid_json" {
				t.Fatalf("record %d is not audited as JSON: %+v", i, v)
			}
		}
	}
	if results[0].SchemaID != 42 || results[1].SchemaID != 0 {
		t.Fatalf("audited schema ids %d and %d, want 42 and 0", results[0].SchemaID, results[1].SchemaID)
	}

	sub := a.Subscribe(Filter{})
	defer a.Unsubscribe(sub)
	resp, err := http.Get(srv.URL + "/api/v1/violations/stream?service=orders")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wait.For(t, "the stream and the subscriber to be registered", func() bool { return a.live.n.Load() >= 2 })
	for i := range recs {
		a.Observe(&recs[i], &results[i])
	}
	checkSchemaIDs := func(where string, ex []store.Example) {
		t.Helper()
		seen := map[int64]bool{}
		for _, e := range ex {
			seen[e.Offset] = true
			want := map[int64]int32{10: 42, 11: 0}[e.Offset]
			if e.SchemaID != want || e.Service != "orders" {
				t.Errorf("%s: example at offset %d has schema id %d, want %d: %+v", where, e.Offset, e.SchemaID, want, e)
			}
		}
		if !seen[10] || !seen[11] || len(seen) != 2 {
			t.Errorf("%s: examples of offsets %v, want 10 and 11", where, seen)
		}
	}
	var published []store.Example
	for range len(results[0].Violations) + len(results[1].Violations) {
		published = append(published, <-sub.C)
	}
	checkSchemaIDs("published", published)

	sc := bufio.NewScanner(resp.Body)
	deadline := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	var streamed []store.Example
	for len(streamed) < len(published) && sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e store.Example
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(data, `"schema_id":42`); has != (e.Offset == 10) || (e.Offset == 11 && strings.Contains(data, `"schema_id"`)) {
			t.Errorf("stream event %s: schema_id wrong", data)
		}
		streamed = append(streamed, e)
	}
	checkSchemaIDs("streamed", streamed)

	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var page store.ExamplePage
	if code := getJSON(t, srv.URL+"/api/v1/violations?service=orders&limit=100", &page); code != http.StatusOK {
		t.Fatalf("violations API: status %d", code)
	}
	checkSchemaIDs("stored", page.Examples)
}
