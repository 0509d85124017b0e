package catalog

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
	"github.com/eventwatch/eventwatch/internal/topology"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedTraffic is AuthorWorks traffic of two types on two topics: book
// events keyed by book id with an optional member and an array, account
// events without a key, and one event breaking a rule.
func fixedTraffic() []*event.Record {
	var recs []*event.Record
	for i := range 30 {
		extra := ""
		if i%3 == 0 {
			extra = `,"manuscript_ref":"s3://m/` + fmt.Sprint(i) + `"`
		}
		book := fmt.Sprintf("bk-%d", i)
		v := fmt.Sprintf(`{"meta":{"id":"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e%02d","type":"content.book.published","version":"1.0",`+
			`"timestamp":"2026-03-01T11:%02d:00.000Z","correlation_id":"req-%d","source":"content-service",`+
			`"trace_context":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}},`+
			`"data":{"book_id":"%s","title":"Title-%d","author_id":"au-%d","pages":%d,"tags":["a","b"]%s}}`, i, i, i, book, i, i, 100+i, extra)
		recs = append(recs, &event.Record{Topic: "content", Partition: int32(i % 3), Offset: int64(i), Key: []byte(book),
			Value: []byte(v), Timestamp: testNow.Add(time.Duration(i-30) * time.Minute)})
	}
	for i := range 10 {
		src := "user-service"
		if i == 9 {
			src = "legacy-signup" // the catalog tests use it as an unregistered producer
		}
		v := fmt.Sprintf(`{"meta":{"id":"7a1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e%02d","type":"user.account.created","version":"1.0",`+
			`"timestamp":"2026-03-01T11:%02d:30.000Z","correlation_id":"req-u%d","source":"%s",`+
			`"trace_context":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}},`+
			`"data":{"user_id":"4b1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e%02d","created_at":"2026-03-01T11:00:%02dZ","plan":null}}`, i, i, i, src, i, i)
		recs = append(recs, &event.Record{Topic: "users", Offset: int64(i), Value: []byte(v), Timestamp: testNow.Add(time.Duration(i-10) * time.Minute)})
	}
	return recs
}

// fixedCluster is the lag collector's view of the same estate.
func fixedCluster() *Cluster {
	return &Cluster{
		Topics: []topology.Topic{
			{Topic: "__consumer_offsets", Partitions: 50, Replicas: 3, RetentionMS: 604800000, CleanupPolicy: "compact"},
			{Topic: "content", Partitions: 3, Replicas: 3, RetentionMS: 604800000, CleanupPolicy: "delete"},
			{Topic: "quiet", Partitions: 1, Replicas: 1, RetentionMS: -1, CleanupPolicy: "compact,delete"},
			{Topic: "users", Partitions: 1, Replicas: 3, RetentionMS: 86400000, CleanupPolicy: "delete"},
		},
		Groups: []GroupTopics{
			{Group: "notification-service", Topics: []string{"content"}},
			{Group: "search-service", Topics: []string{"content", "users"}},
		},
	}
}

// learnTraffic audits recs with the AuthorWorks profile and feeds a
// learner, as the sampler does.
func learnTraffic(t testing.TB, recs []*event.Record, cat *Catalog) (*Learner, *policy.Profile) {
	t.Helper()
	eng := enginetest.Engine(t, "authorworks", audit.Options{Catalog: cat, Now: func() time.Time { return testNow }})
	p := eng.Profile()
	l := NewLearner(p.FieldPath(policy.FieldData), p.IsDLQTopic)
	for _, r := range recs {
		res := eng.Check(r)
		l.Observe(r, &res)
	}
	return l, p
}

// estateOf is the estate of a learner and cluster as discovery sees it.
func estateOf(l *Learner, p *policy.Profile, cl *Cluster) *Estate {
	return &Estate{State: l.State(), Cluster: cl, Profile: p.Name, DataPath: p.FieldPath(policy.FieldData),
		CorrelationPath: p.FieldPath(policy.FieldCorrelationID), Generated: testNow}
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}
