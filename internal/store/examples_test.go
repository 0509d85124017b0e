package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

func example(rule, svc, topic string, off int64, at time.Time) store.Example {
	return store.Example{Observed: at, Service: svc, Topic: topic, EventType: "t.v1", Rule: rule, Severity: "error",
		Profile: "authorworks", Message: "m", Partition: int32(off % 3), Offset: off, Time: at}
}

// TestFindExamplesFiltersAndPages writes examples of two rules, services
// and topics and pages through each filter with the cursor: every example
// comes exactly once, newest first, on both drivers.
func TestFindExamplesFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t) // MaxExamples 2 per (rule, service, topic)
			b := &store.Batch{}
			for i := range int64(12) {
				rule := []string{"key.missing", "naming.topic"}[i%2]
				svc := []string{"orders", "billing"}[i/2%2]
				topic := []string{"a", "b", "c"}[i/4]
				b.Examples = append(b.Examples, example(rule, svc, topic, i, h0.Add(time.Duration(i)*time.Minute)))
			}
			b.Examples = append(b.Examples, example("key.missing", "orders", "a", 100, h0.Add(time.Hour)),
				example("key.missing", "orders", "a", 101, h0.Add(time.Hour+time.Minute))) // pushes out offset 0
			if err := s.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
			all := pageAll(t, s, store.ExampleQuery{Limit: 2})
			if len(all) != 13 || all[0].Offset != 101 || all[len(all)-1].Offset != 1 {
				t.Fatalf("all examples: %d, first %+v; want 13 (offset 0 trimmed), newest first", len(all), all[0])
			}
			for i := 1; i < len(all); i++ {
				if all[i].Observed.After(all[i-1].Observed) {
					t.Fatalf("not newest first at %d: %v after %v", i, all[i].Observed, all[i-1].Observed)
				}
			}
			checkCount(t, s, store.ExampleQuery{Rule: "key.missing"}, 7)
			checkCount(t, s, store.ExampleQuery{Services: []string{"billing"}}, 6)
			checkCount(t, s, store.ExampleQuery{Services: []string{}}, 0)
			checkCount(t, s, store.ExampleQuery{Topic: "c", Rule: "naming.topic"}, 2)
			checkCount(t, s, store.ExampleQuery{Since: h0.Add(8 * time.Minute)}, 6)
			if _, err := s.FindExamples(ctx, store.ExampleQuery{Cursor: "not-a-cursor"}); !errors.Is(err, store.ErrBadCursor) {
				t.Errorf("bad cursor: %v", err)
			}
		})
	}
}

func pageAll(t *testing.T, s store.Store, q store.ExampleQuery) []store.Example {
	t.Helper()
	var out []store.Example
	seen := map[string]bool{}
	for range 100 {
		p, err := s.FindExamples(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Examples {
			k := fmt.Sprint(e.Rule, e.Service, e.Topic, e.Partition, e.Offset)
			if seen[k] {
				t.Fatalf("example %s on two pages", k)
			}
			seen[k] = true
		}
		out = append(out, p.Examples...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
	t.Fatal("pagination does not end")
	return nil
}

func checkCount(t *testing.T, s store.Store, q store.ExampleQuery, want int) {
	t.Helper()
	q.Limit = 3
	if got := len(pageAll(t, s, q)); got != want {
		t.Errorf("%+v: %d examples, want %d", q, got, want)
	}
}

// TestExamplesSurviveReopen: examples are in the SQLite file, with their
// reason, after the process that wrote them is gone.
func TestExamplesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, "sqlite://"+filepath.Join(dir, "r.db"), "")
	now := time.Now().UTC().Truncate(time.Millisecond)
	e := example("size.event_too_large", "legacy", "legacy.import", 7, now)
	e.Message, e.Field, e.EventID = "event is 40000 bytes (limit 32768)", "", "id-7"
	if err := s.Write(context.Background(), &store.Batch{Examples: []store.Example{e}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, "r.db", dir)
	p, err := s.FindExamples(context.Background(), store.ExampleQuery{Limit: 10})
	if err != nil || len(p.Examples) != 1 {
		t.Fatalf("after reopen: %+v, %v", p, err)
	}
	got := p.Examples[0]
	got.Hour = time.Time{}
	if got != e {
		t.Fatalf("after reopen\n got %+v\nwant %+v", got, e)
	}
}

// TestExampleSchemaIDRoundTrip: the Confluent schema id of a framed
// record's example comes back from Examples and FindExamples, on both
// drivers; an unframed record's example has none, and its JSON no
// schema_id member.
func TestExampleSchemaIDRoundTrip(t *testing.T) {
	ctx := context.Background()
	for name, mk := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			framed := example("key.missing", "orders", "orders.events", 5, h0.Add(2*time.Minute))
			framed.SchemaID = 42
			plain := example("key.missing", "orders", "orders.events", 4, h0.Add(time.Minute))
			if err := s.Write(ctx, &store.Batch{Examples: []store.Example{framed, plain}}); err != nil {
				t.Fatal(err)
			}
			ex, err := s.Examples(ctx, store.Window{From: h0, To: h0.Add(time.Hour)})
			if err != nil || len(ex) != 2 {
				t.Fatalf("examples: %+v, %v", ex, err)
			}
			p, err := s.FindExamples(ctx, store.ExampleQuery{Limit: 10})
			if err != nil || len(p.Examples) != 2 {
				t.Fatalf("find examples: %+v, %v", p, err)
			}
			for _, got := range [][]store.Example{ex, p.Examples} {
				for i, want := range []store.Example{framed, plain} {
					got[i].Hour = time.Time{}
					if got[i] != want {
						t.Errorf("example %d\n got %+v\nwant %+v", i, got[i], want)
					}
				}
			}
			b, err := json.Marshal(p.Examples)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), `"schema_id":42`); n != 1 || strings.Count(string(b), `"schema_id"`) != 1 {
				t.Errorf("JSON of the examples: %s; want schema_id 42 on the framed one only", b)
			}
		})
	}
}
