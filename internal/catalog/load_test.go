package catalog

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
)

// awEvent is an AuthorWorks event of type with the given source and data.
func awEvent(typ, source, data string) *event.Record {
	v := `{"meta":{"id":"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f","type":"` + typ + `","version":"1.0",` +
		`"timestamp":"2026-03-01T11:59:00.000Z","correlation_id":"req-1","source":"` + source + `",` +
		`"trace_context":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}},"data":` + data + `}`
	return &event.Record{Topic: "content", Key: []byte("k"), Value: []byte(v), Timestamp: testNow}
}

// catalogTraffic exercises every catalog rule: compliant events, a missing
// required member, a bad enum, a wrong type, a wrong producer, an
// unregistered type and an unregistered version.
func catalogTraffic() []*event.Record {
	return []*event.Record{
		awEvent("content.book.published", "content-service", `{"book_id":"bk-1","title":"A","author_id":"au-1"}`),
		awEvent("content.book.published", "content-service", `{"book_id":"bk-1","title":"A"}`),
		awEvent("content.book.published", "content-service", `{"book_id":"","title":"A","author_id":"au-1"}`),
		awEvent("content.book.published", "rogue-service", `{"book_id":"bk-1","title":"A","author_id":"au-1"}`),
		awEvent("user.account.created", "user-service", `{"user_id":"u-1","email_verified":true,"plan":"free"}`),
		awEvent("user.account.created", "user-service", `{"user_id":"u-1","email_verified":"yes","plan":"gold"}`),
		awEvent("content.book.retracted", "content-service", `{"book_id":"bk-1"}`),
	}
}

// catalogResults audits traffic with cat and lists each record's catalog.*
// violations (rule and field).
func catalogResults(t *testing.T, cat *Catalog, recs []*event.Record) []string {
	t.Helper()
	eng := enginetest.Engine(t, "authorworks", audit.Options{Catalog: cat, Now: func() time.Time { return testNow }})
	var out []string
	for i, r := range recs {
		res := eng.Check(r)
		var vs []string
		for _, v := range res.Violations {
			if strings.HasPrefix(v.Rule, "catalog.") {
				vs = append(vs, v.Rule+"@"+v.Field)
			}
		}
		out = append(out, fmt.Sprintf("%d %s", i, strings.Join(vs, " ")))
	}
	return out
}

// comparable reduces an entry to what the catalog rules and the lag
// collector use.
type comparable struct {
	Type, Version, Producer, Topic string
	Consumers                      []string
}

func comparableEntries(cat *Catalog) []comparable {
	var out []comparable
	for _, e := range cat.Entries() {
		cs := append([]string(nil), e.Consumers...)
		sort.Strings(cs)
		out = append(out, comparable{e.Type, e.Version, e.Producer, e.Topic, cs})
	}
	return out
}

// TestAsyncAPICatalogsMatchDirectory: the hand-written AsyncAPI 2.6 and
// 3.0 documents of examples/asyncapi (with $refs) load as the same catalog
// as examples/catalog/authorworks and give the same catalog.* verdicts.
func TestAsyncAPICatalogsMatchDirectory(t *testing.T) {
	dir, err := Load(filepath.Join("..", "..", "examples", "catalog", "authorworks"))
	if err != nil {
		t.Fatal(err)
	}
	want := catalogResults(t, dir, catalogTraffic())
	if strings.Count(strings.Join(want, " "), "catalog.") < 5 {
		t.Fatalf("the traffic should break every catalog rule: %v", want)
	}
	for _, doc := range []string{"authorworks-2.6.yaml", "authorworks-3.0.yaml"} {
		t.Run(doc, func(t *testing.T) {
			cat, err := Load(filepath.Join("..", "..", "examples", "asyncapi", doc))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := comparableEntries(cat), comparableEntries(dir); !reflect.DeepEqual(got, want) {
				t.Errorf("entries\n got %+v\nwant %+v", got, want)
			}
			if got := catalogResults(t, cat, catalogTraffic()); !reflect.DeepEqual(got, want) {
				t.Errorf("verdicts\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestAsyncAPIJSON: the same document as JSON loads the same.
func TestAsyncAPIJSON(t *testing.T) {
	yml, err := LoadAsyncAPI(filepath.Join("..", "..", "examples", "asyncapi", "authorworks-3.0.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l, p := learnTraffic(t, fixedTraffic(), nil)
	j, err := Discover(estateOf(l, p, fixedCluster())).JSON()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseAsyncAPI(j)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || len(yml) != 2 {
		t.Fatalf("entries: %d from JSON, %d from YAML", len(entries), len(yml))
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
}

// TestRoundTrip: a document discovered from traffic, used as the catalog,
// yields no catalog.* violation on the same traffic, and its entries carry
// what was observed.
func TestRoundTrip(t *testing.T) {
	recs := fixedTraffic()
	l, p := learnTraffic(t, recs, nil)
	y, err := Discover(estateOf(l, p, fixedCluster())).YAML()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseAsyncAPI(y)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := New(entries)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range catalogResults(t, cat, recs) {
		if strings.Contains(line, "catalog.") {
			t.Errorf("record %d: %s", i, line)
		}
	}
	book, ok := cat.Lookup("content.book.published", "1.0")
	if !ok || book.Producer != "content-service" || book.Topic != "content" ||
		strings.Join(book.Consumers, ",") != "notification-service,search-service" {
		t.Errorf("book entry = %+v", book)
	}
	user, _ := cat.Lookup("user.account.created", "1.0")
	if got := strings.Join(user.AllProducers(), ","); got != "legacy-signup,user-service" {
		t.Errorf("user producers = %s", got)
	}
}
