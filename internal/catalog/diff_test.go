package catalog

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// seenOf discovers recs (with the cluster's groups) and reads the
// document back as entries, as `eventwatch catalog diff` does.
func seenOf(t *testing.T, recs []*event.Record, groups map[string][]string) []Entry {
	t.Helper()
	l, p := learnTraffic(t, recs, nil)
	cl := &Cluster{}
	for _, g := range sortedKeys(groups) {
		cl.Groups = append(cl.Groups, GroupTopics{Group: g, Topics: groups[g]})
	}
	j, err := Discover(estateOf(l, p, cl)).JSON()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := SeenEntries(j)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func declaredAuthorworks(t *testing.T) []Entry {
	t.Helper()
	cat, err := Load(filepath.Join("..", "..", "examples", "catalog", "authorworks"))
	if err != nil {
		t.Fatal(err)
	}
	return cat.Entries()
}

// on sets a record's topic.
func on(topic string, r *event.Record) *event.Record { r.Topic = topic; return r }

// TestDiffClean: traffic exactly as the catalog declares it (types,
// producers, consumer groups, data) has no differences.
func TestDiffClean(t *testing.T) {
	var recs []*event.Record
	for i := range 5 {
		recs = append(recs,
			on("content", awEvent("content.book.published", "content-service", fmt.Sprintf(`{"book_id":"bk-%d","title":"T","author_id":"au-1"}`, i))),
			on("user", awEvent("user.account.created", "user-service", `{"user_id":"u-1","email_verified":true,"plan":"free","locale":"en"}`)))
	}
	seen := seenOf(t, recs, map[string][]string{"search-service": {"content"}, "notification-service": {"content", "user"}, "content-service": {"user"}})
	if d := Diff(declaredAuthorworks(t), seen); len(d) != 0 {
		t.Fatalf("differences on compliant traffic: %+v", d)
	}
}

// TestDiffKinds: one case per kind of difference.
func TestDiffKinds(t *testing.T) {
	recs := []*event.Record{
		on("content", awEvent("content.book.published", "content-service", `{"book_id":"bk-1","title":"T","author_id":"au-1","pages":3}`)),
		on("content", awEvent("content.book.published", "content-service", `{"book_id":"bk-2","title":7}`)),
		on("content", awEvent("content.book.published", "rogue-service", `{"book_id":"bk-3","title":"T","author_id":"au-1"}`)),
		on("content", awEvent("content.book.retracted", "content-service", `{"book_id":"bk-3"}`)),
	}
	seen := seenOf(t, recs, map[string][]string{"search-service": {"content"}, "analytics": {"content"}})
	var got []string
	for _, d := range Diff(declaredAuthorworks(t), seen) {
		got = append(got, d.Kind+" "+d.Type+" "+d.Path+" | "+d.Message)
	}
	want := []string{
		"consumer content.book.published  | content.book.published 1.0: expected consumer group notification-service is not reading topic content",
		"consumer content.book.published  | content.book.published 1.0: consumer group analytics reads topic content but is not an expected consumer",
		"producer content.book.published  | content.book.published 1.0 is produced by rogue-service, which the catalog does not register (it registers content-service)",
		"schema.required_missing content.book.published data.author_id | content.book.published 1.0: the catalog requires data.author_id but some events lack it",
		"schema.type_mismatch content.book.published data.title | content.book.published 1.0: data.title is integer in traffic but the catalog declares string",
		"schema.undeclared_field content.book.published data.pages | content.book.published 1.0: traffic carries data.pages, which the catalog's schema does not declare",
		"seen_not_declared content.book.retracted  | content.book.retracted 1.0 is in traffic (from content-service) but not declared",
		"declared_not_seen user.account.created  | user.account.created 1.0 is declared but no traffic carried it",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("differences:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDiffRegisteredProducerNotSeen: a registered producer that never sent
// the type is a producer difference too.
func TestDiffRegisteredProducerNotSeen(t *testing.T) {
	declared := []Entry{{Type: "a.b.created", Version: "1", Producer: "p1", Producers: []string{"p1", "p2"}, Schema: map[string]any{}}}
	seen := []Entry{{Type: "a.b.created", Version: "1.0", Producer: "p1", Schema: map[string]any{}}}
	d := Diff(declared, seen)
	if len(d) != 1 || d[0].Kind != DiffProducer || !strings.Contains(d[0].Message, "registered producer p2 was not seen") {
		t.Fatalf("diff = %+v", d)
	}
}

// TestDiffUnversioned: a type seen without a version is reported as not
// declared, saying why no catalog can declare it.
func TestDiffUnversioned(t *testing.T) {
	seen := []Entry{{Type: "BatchCreated", Producer: "legacy_importer"}}
	d := Diff(nil, seen)
	if len(d) != 1 || d[0].Kind != DiffNotDeclared || !strings.Contains(d[0].Message, "without a version") {
		t.Fatalf("diff = %+v", d)
	}
}
