package readers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/metricstest"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// feed indexes one event of typ/version at topic/partition/offset produced at.
func feed(x *Index, topic string, p int32, off int64, typ, version, source string, at time.Time) {
	x.Observe(&event.Record{Topic: topic, Partition: p, Offset: off, Timestamp: at},
		&event.Result{EventType: typ, Version: version, Source: source})
}

func groupsOf(rs []Reader) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Group
	}
	return out
}

// estateOf is the estate one replica (the leader) answers.
func estateOf(x *Index, now time.Time, window time.Duration) Estate {
	return Build(x.Stats(), x.Readers(), nil, now, window)
}

// TestJoinFindsReadersPerTypeAndVersion: v1 events on partition 0, v2 on
// partition 1; group "all" and "audit" commit past both, "new-only"
// commits only partition 1 — ground truth is which partitions each group
// committed past.
func TestJoinFindsReadersPerTypeAndVersion(t *testing.T) {
	x := NewIndex(nil)
	for i := range int64(10) {
		at := t0.Add(time.Duration(i) * time.Second)
		feed(x, "orders", 0, 2*i, "order.placed", "1", "legacy", at)
		feed(x, "orders", 0, 2*i+1, "order.cancelled", "1", "legacy", at)
		feed(x, "orders", 1, 2*i, "order.placed", "2", "shop", at)
		feed(x, "orders", 1, 2*i+1, "order.cancelled", "2", "shop", at)
	}
	x.Join(t0.Add(time.Minute), []Commit{
		{"all", "orders", 0, 20}, {"all", "orders", 1, 20},
		{"audit", "orders", 0, 20}, {"audit", "orders", 1, 15},
		{"new-only", "orders", 1, 20},
	})
	got := x.Readers()
	want := map[TypeKey][]string{
		{"order.placed", "1"}: {"all", "audit"}, {"order.cancelled", "1"}: {"all", "audit"},
		{"order.placed", "2"}: {"all", "audit", "new-only"}, {"order.cancelled", "2"}: {"all", "audit", "new-only"},
	}
	for k, groups := range want {
		if g := groupsOf(got[k]); !slices.Equal(g, groups) {
			t.Errorf("%v read by %v, want %v", k, g, groups)
		}
	}
	for _, r := range got[TypeKey{"order.placed", "2"}] {
		wantBehind := map[string]int64{"all": 0, "audit": 2, "new-only": 0}[r.Group]
		if r.BehindEvents != wantBehind {
			t.Errorf("%s behind on order.placed v2 by %d, want %d", r.Group, r.BehindEvents, wantBehind)
		}
		if !r.LastReadEstimated || !r.LastRead.Equal(t0.Add(9*time.Second)) && r.Group != "audit" {
			t.Errorf("%s: first join credits the production time of the last event passed, got %v (estimated %t)", r.Group, r.LastRead, r.LastReadEstimated)
		}
	}
}

// TestJoinCreditsCrossingAndLateIndexing: a commit that moves past a new
// occurrence reads it at the join; an occurrence indexed after the group
// already passed it (eventwatch's sampler behind the group) is credited at
// the next join; a group that does not move is not credited again.
func TestJoinCreditsCrossingAndLateIndexing(t *testing.T) {
	x := NewIndex(nil)
	feed(x, "t", 0, 0, "a.happened", "1", "s", t0)
	j1, j2, j3 := t0.Add(time.Minute), t0.Add(2*time.Minute), t0.Add(3*time.Minute)
	x.Join(j1, []Commit{{"g", "t", 0, 1}, {"slow", "t", 0, 0}})
	feed(x, "t", 0, 1, "a.happened", "1", "s", t0.Add(time.Second)) // g already committed 5 below: indexed late
	x.Join(j2, []Commit{{"g", "t", 0, 5}, {"slow", "t", 0, 1}})
	rs := x.Readers()[TypeKey{"a.happened", "1"}]
	if len(rs) != 2 || !rs[0].LastRead.Equal(j2) || rs[0].LastReadEstimated || !rs[1].LastRead.Equal(j2) {
		t.Fatalf("after the crossing join: %+v, want g and slow read at %v", rs, j2)
	}
	if rs[1].BehindEvents != 1 || rs[1].BehindSeconds == nil {
		t.Fatalf("slow is behind by one event: %+v", rs[1])
	}
	x.Join(j3, []Commit{{"g", "t", 0, 5}, {"slow", "t", 0, 1}})
	rs = x.Readers()[TypeKey{"a.happened", "1"}]
	if !rs[0].LastRead.Equal(j2) || !rs[1].LastRead.Equal(j2) {
		t.Fatalf("nobody moved, nobody read again: %+v", rs)
	}
}

func TestJoinRemembersRewinds(t *testing.T) {
	x := NewIndex(nil)
	for i := range int64(5) {
		feed(x, "t", 0, i, "a.happened", "1", "s", t0)
	}
	x.Join(t0.Add(time.Minute), []Commit{{"g", "t", 0, 5}})
	x.Join(t0.Add(2*time.Minute), []Commit{{"g", "t", 0, 2}})
	rw := x.Rewinds()
	if len(rw) != 1 || rw[0].From != 5 || rw[0].To != 2 {
		t.Fatalf("rewinds %+v, want one from 5 to 2", rw)
	}
	if !x.Rewound("g", "t", 0, 3) || x.Rewound("g", "t", 0, 1) || x.Rewound("h", "t", 0, 3) {
		t.Fatal("offset 3 was redelivered to g, offset 1 was not, h never rewound")
	}
}

// TestRetirementVerdict: v1 is blocked while its producer is recent and
// while a reader reads only v1; it flips once the producer is older than
// the window and every reader also reads v2.
func TestRetirementVerdict(t *testing.T) {
	x := NewIndex(nil)
	feed(x, "t", 0, 0, "a.happened", "1.0", "old-svc", t0)
	feed(x, "t", 1, 0, "a.happened", "2.0", "new-svc", t0.Add(time.Hour))
	x.Join(t0.Add(time.Hour), []Commit{{"both", "t", 0, 1}, {"both", "t", 1, 1}, {"v1only", "t", 0, 1}})
	window := 24 * time.Hour
	e := estateOf(x, t0.Add(2*time.Hour), window)
	v1, _ := e.Find("a.happened", "1")
	if v1.Retirement.Retirable || len(v1.Retirement.Blockers) != 2 {
		t.Fatalf("v1 verdict %+v: want blocked by old-svc and by v1only", v1.Retirement)
	}
	x.Join(t0.Add(3*time.Hour), []Commit{{"both", "t", 0, 1}, {"both", "t", 1, 1}})
	e = estateOf(x, t0.Add(25*time.Hour), window)
	v1, _ = e.Find("a.happened", "1")
	if v1.Retirement.Retirable {
		t.Fatalf("v1only still read v1 once and never v2: %+v", v1.Retirement)
	}
	x2 := NewIndex(nil)
	feed(x2, "t", 0, 0, "a.happened", "1.0", "old-svc", t0)
	feed(x2, "t", 1, 0, "a.happened", "2.0", "new-svc", t0.Add(time.Hour))
	x2.Join(t0.Add(time.Hour), []Commit{{"both", "t", 0, 1}, {"both", "t", 1, 1}})
	e = estateOf(x2, t0.Add(25*time.Hour), window)
	v1, _ = e.Find("a.happened", "1")
	want := "v1.0 can be retired: no producer for 1 day, every reader also reads v2.0"
	if !v1.Retirement.Retirable || v1.Retirement.Verdict != want {
		t.Fatalf("verdict %q, want %q", v1.Retirement.Verdict, want)
	}
	v2, _ := e.Find("a.happened", "2")
	if v2.Retirement.Retirable {
		t.Fatalf("the newest version is never retirable: %+v", v2.Retirement)
	}
}

// relayChain is a chain in which service relay consumed input id (once,
// or again as a producer duplicate) and emitted outputs events.
func relayChain(id string, dups, outputs int) Chain {
	ch := Chain{Events: []Event{{ID: id, Type: "order.placed", Service: "shop", Topic: "orders", Offset: 7, Upstream: -1}}}
	for i := range outputs {
		ch.Events = append(ch.Events, Event{ID: fmt.Sprintf("%s-out-%d", id, i), Type: "order.relayed", Service: "relay", Topic: "relayed", Upstream: 0})
	}
	if dups > 0 {
		ch.Redelivered = map[string]int{id: dups}
	}
	return ch
}

func TestCheckerFindsTheConsumerThatReEmits(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := NewChecker(func(service, _ string) string { return service + "-group" }, nil, reg)
	c.Observe(relayChain("a", 0, 1))
	c.Observe(relayChain("b", 1, 2)) // duplicate in, two out: not idempotent
	c.Observe(relayChain("c", 1, 1)) // duplicate in, one out: fine
	got := c.Results()
	if len(got) != 1 || got[0].Group != "relay-group" || got[0].Verdict != VerdictNotIdempotent || got[0].Redelivered != 2 || got[0].Duplicated != 1 {
		t.Fatalf("results %+v", got)
	}
	if x := got[0].Examples; len(x) != 1 || x[0].EventID != "b" || len(x[0].Effects) != 2 || x[0].Deliveries != 2 {
		t.Fatalf("examples %+v", x)
	}
	if v := metricstest.Value(t, reg, "eventwatch_consumer_redelivered_inputs_total", map[string]string{"group": "relay-group", "event_type": "order.placed", "outcome": OutcomeDuplicateEffects}); v != 1 {
		t.Fatalf("duplicate_effects counter = %v, want 1", v)
	}
	dedup := NewChecker(func(service, _ string) string { return service }, nil, prometheus.NewRegistry())
	dedup.Observe(relayChain("d", 1, 1))
	if r := dedup.Results(); len(r) != 1 || r[0].Verdict != VerdictIdempotent {
		t.Fatalf("a relay that dedups: %+v", r)
	}
}

func TestCheckerCountsRewindsAsRedelivery(t *testing.T) {
	c := NewChecker(func(service, _ string) string { return service },
		func(g, topic string, p int32, off int64) bool { return g == "relay" && topic == "orders" && off == 7 }, prometheus.NewRegistry())
	c.Observe(relayChain("a", 0, 2))
	got := c.Results()
	if len(got) != 1 || got[0].Verdict != VerdictNotIdempotent || got[0].Examples[0].How != "rewind" {
		t.Fatalf("results %+v", got)
	}
}

func TestUnobservedReadersAreNotObservable(t *testing.T) {
	x := NewIndex(nil)
	feed(x, "t", 0, 0, "a.happened", "1", "s", t0)
	x.Join(t0, []Commit{{"g", "t", 0, 1}})
	e := estateOf(x, t0, time.Hour)
	if len(e.Idempotency) != 1 || e.Idempotency[0].Verdict != VerdictNotObservable || e.Idempotency[0].Group != "g" {
		t.Fatalf("idempotency %+v", e.Idempotency)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"1", "1.0", 0}, {"v2", "1.9", 1}, {"1.10", "1.9", 1}, {"1.0", "2.0", -1}, {"", "1", -1}} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestSharedPositionsJoinOnTheLeader: a follower's positions, imported by
// the leader, find the same readers as if the leader had sampled them.
func TestSharedPositionsJoinOnTheLeader(t *testing.T) {
	follower, leader := NewIndex(nil), NewIndex(nil)
	feed(follower, "t", 3, 10, "a.happened", "1", "s", t0)
	pos, left := follower.ExportPositions()
	if left != 0 || len(pos) != 1 {
		t.Fatalf("exported %d partitions, %d left out", len(pos), left)
	}
	leader.ImportPositions(pos)
	leader.Join(t0, []Commit{{"g", "t", 3, 11}})
	docs := []ReplicaDoc{{Stats: follower.Stats()}, {Stats: leader.Stats(), Leader: true, Readers: map[string][]Reader{}}}
	for k, rs := range leader.Readers() {
		docs[1].Readers[readerKey(k)] = rs
	}
	e := Assemble(docs, t0, time.Hour)
	tv, ok := e.Find("a.happened", "1")
	if !ok || tv.Events != 1 || len(tv.Readers) != 1 || tv.Readers[0].Group != "g" {
		t.Fatalf("estate %+v", e.Types)
	}
}

func TestFamilyGroupsVersionSuffixedTypes(t *testing.T) {
	x := NewIndex(nil)
	feed(x, "t", 0, 0, "huleedu.content.book.published.v1", "1", "old", t0)
	feed(x, "t", 0, 1, "huleedu.content.book.published.v2", "2", "new", t0)
	x.Join(t0, []Commit{{"g", "t", 0, 2}})
	e := estateOf(x, t0.Add(48*time.Hour), 24*time.Hour)
	v1, _ := e.Find("huleedu.content.book.published.v1", "1")
	if !v1.Retirement.Retirable {
		t.Fatalf("v1 has a newer version of its family: %+v", v1.Retirement)
	}
	if f := Family("content.book.published", "1.0"); f != "content.book.published" {
		t.Fatalf("a type without a version suffix is its own family, got %q", f)
	}
}

// TestResumeFromEarlierDocument: a restarted replica continues from the
// document its previous process published: counts, positions (so a group
// seen for the first time is still found reading) and last reads.
func TestResumeFromEarlierDocument(t *testing.T) {
	before, err := New(Config{}, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	feed(before.Index, "t", 0, 0, "a.happened", "1", "s", t0)
	before.Index.Join(t0.Add(time.Minute), []Commit{{"g", "t", 0, 1}})
	raw, _ := json.Marshal(before.Document(true, true))
	var doc ReplicaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	after, _ := New(Config{}, nil, prometheus.NewRegistry())
	after.Resume(doc)
	feed(after.Index, "t", 0, 1, "a.happened", "1", "s", t0.Add(2*time.Minute))
	after.Index.Join(t0.Add(3*time.Minute), []Commit{{"h", "t", 0, 1}})
	e := Assemble([]ReplicaDoc{after.Document(true, false)}, t0.Add(3*time.Minute), time.Hour)
	tv, ok := e.Find("a.happened", "1")
	if !ok || tv.Events != 2 || !slices.Equal(groupsOf(tv.Readers), []string{"g", "h"}) {
		t.Fatalf("after the restart: %+v", e.Types)
	}
}

// TestJoinFromCalledOff: a streamed join whose source calls it off (the
// lag collector moved on) changes nothing — no join time, no readers —
// and a streamed join finds what the same commits as a list find.
func TestJoinFromCalledOff(t *testing.T) {
	x := NewIndex(nil)
	feed(x, "orders", 0, 0, "order.placed", "1", "shop", t0)
	if x.JoinFrom(t0.Add(time.Minute), func(func(Commit)) bool { return false }) {
		t.Fatal("JoinFrom reported a join its source called off")
	}
	if !x.JoinedAt().IsZero() || len(x.Readers()) != 0 {
		t.Fatalf("called-off join changed the index: joined at %v, readers %v", x.JoinedAt(), x.Readers())
	}
	ok := x.JoinFrom(t0.Add(time.Minute), func(yield func(Commit)) bool {
		yield(Commit{"billing", "orders", 0, 1})
		return true
	})
	if !ok || !x.JoinedAt().Equal(t0.Add(time.Minute)) {
		t.Fatalf("JoinFrom = %v, joined at %v", ok, x.JoinedAt())
	}
	if g := groupsOf(x.Readers()[TypeKey{"order.placed", "1"}]); !slices.Equal(g, []string{"billing"}) {
		t.Errorf("order.placed v1 read by %v, want billing", g)
	}
}

// TestDeadLetterCopiesAreNoOccurrences: a group that reads a topic of
// dead-letter copies (a Spring ".DLT" topic no dead-letter pattern names,
// recognised by its headers: Result.DeadLetter) does not read the copied
// type; the original's occurrence on its own topic still counts.
func TestDeadLetterCopiesAreNoOccurrences(t *testing.T) {
	x := NewIndex(func(topic string) bool { return strings.HasSuffix(topic, ".dlq") })
	feed(x, "orders", 0, 0, "order.placed", "1", "shop", t0)
	x.Observe(&event.Record{Topic: "orders.DLT", Partition: 0, Offset: 0, Timestamp: t0.Add(time.Second)},
		&event.Result{EventType: "order.placed", Version: "1", Source: "shop", DeadLetter: true})
	x.Join(t0.Add(time.Minute), []Commit{{"shop-consumer", "orders", 0, 1}, {"dlt-handler", "orders.DLT", 0, 1}})
	if g := groupsOf(x.Readers()[TypeKey{"order.placed", "1"}]); !slices.Equal(g, []string{"shop-consumer"}) {
		t.Fatalf("order.placed 1 read by %v, want only shop-consumer (dlt-handler reads dead-letter copies)", g)
	}
}

// TestJoinFindsEveryPartitionOfATopic: the join finds a commit's
// partition through its topic's table whatever order the partitions were
// indexed in, with gaps, past the table (a huge partition number, kept in
// the map only), and on topics interleaved with others; commits on
// partitions or topics the index does not know, or with a negative
// partition, credit nothing. Ground truth: each group reads exactly the
// partitions it committed past.
func TestJoinFindsEveryPartitionOfATopic(t *testing.T) {
	x := NewIndex(nil)
	parts := []int32{7, 2, 0, maxTablePartition + 3, 12}
	for _, p := range parts {
		feed(x, "orders", p, 4, "order.placed", "1", "shop", t0)
		feed(x, "refunds", p, 4, "refund."+fmt.Sprint(p), "1", "shop", t0)
	}
	var commits []Commit
	for _, p := range parts { // group "all": past every partition of both topics, topics interleaved
		commits = append(commits, Commit{"all", "orders", p, 10}, Commit{"all", "refunds", p, 10})
	}
	commits = append(commits,
		Commit{"none", "orders", 3, 10}, Commit{"none", "orders", 13, 10}, Commit{"none", "orders", maxTablePartition + 4, 10},
		Commit{"none", "orders", -1, 10}, Commit{"none", "payments", 0, 10}, Commit{"none", "refunds", 1, 10})
	x.Join(t0.Add(time.Minute), commits)
	got := x.Readers()
	if rs := got[TypeKey{"order.placed", "1"}]; len(rs) != 1 || rs[0].Group != "all" || rs[0].Partitions != len(parts) {
		t.Fatalf("order.placed read by %+v, want group all on %d partitions", rs, len(parts))
	}
	for _, p := range parts {
		if rs := got[TypeKey{"refund." + fmt.Sprint(p), "1"}]; len(rs) != 1 || rs[0].Group != "all" || rs[0].Partitions != 1 {
			t.Errorf("refund.%d (refunds/%d only) read by %+v, want group all on 1 partition", p, p, rs)
		}
	}
}

// TestJoinTopicsIsJoinFrom: joining one group's topic at a time
// (JoinTopics, offsets by partition, negative for none) finds exactly
// what joining commit by commit finds — readers, partitions, behind
// counts, last reads and rewinds — over joins that move forward and back.
func TestJoinTopicsIsJoinFrom(t *testing.T) {
	feedAll := func(x *Index) {
		for p := range int32(4) {
			for off := range int64(6) {
				feed(x, "orders", p, off, "order.placed", fmt.Sprint(1+p%2), "shop", t0.Add(time.Duration(off)*time.Second))
				feed(x, "refunds", p, off, "refund.issued", "1", "shop", t0.Add(time.Duration(off)*time.Second))
			}
		}
	}
	byCommit, byTopic := NewIndex(nil), NewIndex(nil)
	feedAll(byCommit)
	feedAll(byTopic)
	joins := []map[string]map[string][]int64{ // group -> topic -> offset by partition
		{"a": {"orders": {6, 3, -1, 6}, "refunds": {2}}, "b": {"refunds": {6, 6, 6, 6}}},
		{"a": {"orders": {6, 5, 4, 1}, "refunds": {6}}, "b": {"refunds": {6, 2, 6, 6}, "orders": {-1, -1, 6}}},
	}
	for i, join := range joins {
		at := t0.Add(time.Duration(i+1) * time.Minute)
		var commits []Commit
		for _, g := range []string{"a", "b"} {
			for _, topic := range []string{"orders", "refunds"} {
				for p, off := range join[g][topic] {
					commits = append(commits, Commit{Group: g, Topic: topic, Partition: int32(p), Offset: off})
				}
			}
		}
		byCommit.Join(at, commits)
		ok := byTopic.JoinTopics(at, func(yield func(string, string, []int64)) bool {
			for _, g := range []string{"a", "b"} {
				for _, topic := range []string{"orders", "refunds"} {
					if offs := join[g][topic]; offs != nil {
						yield(g, topic, offs)
					}
				}
			}
			return true
		})
		if !ok {
			t.Fatal("JoinTopics refused a join its source completed")
		}
		if got, want := byTopic.Readers(), byCommit.Readers(); !reflect.DeepEqual(got, want) || len(want) != 3 {
			t.Fatalf("join %d: readers\n%+v\nwant\n%+v", i, got, want)
		}
		if got, want := byTopic.Rewinds(), byCommit.Rewinds(); !reflect.DeepEqual(got, want) || (i == 1 && len(want) == 0) {
			t.Fatalf("join %d: rewinds %v, want %v", i, got, want)
		}
	}
}

// TestJoinIndexedTopicsIsJoinTopics: a join whose source leaves out the
// topics the index holds no partition of finds exactly what JoinTopics
// finds with every topic — readers, rewinds, last reads — also for a topic
// indexed only after the first join and for one whose only partition is
// beyond the per-topic tables; and the left-out topics were asked about.
func TestJoinIndexedTopicsIsJoinTopics(t *testing.T) {
	feedSome := func(x *Index) {
		for p := range int32(3) {
			for off := range int64(5) {
				feed(x, "orders", p, off, "order.placed", "1", "shop", t0.Add(time.Duration(off)*time.Second))
			}
		}
		feed(x, "huge", maxTablePartition+2, 3, "huge.event", "1", "shop", t0)
	}
	all, indexed := NewIndex(nil), NewIndex(nil)
	feedSome(all)
	feedSome(indexed)
	huge := slices.Repeat([]int64{-1}, maxTablePartition+3)
	huge[maxTablePartition+2] = 4
	joins := []map[string]map[string][]int64{ // group -> topic -> offset by partition
		{"a": {"orders": {5, 2, -1}, "payments": {9, 9}}, "b": {"payments": {4}, "refunds": {1}, "huge": huge}},
		{"a": {"orders": {5, 1, 3}, "payments": {9, 2}}, "b": {"payments": {6}, "refunds": {1}}},
	}
	groups, topics := []string{"a", "b"}, []string{"huge", "orders", "payments", "refunds"}
	for i, join := range joins {
		if i == 1 { // payments indexed between the joins
			for _, x := range []*Index{all, indexed} {
				feed(x, "payments", 0, 5, "payment.taken", "2", "pay", t0.Add(time.Minute))
				feed(x, "payments", 1, 1, "payment.taken", "2", "pay", t0.Add(time.Minute))
			}
		}
		at := t0.Add(time.Duration(i+1) * time.Minute)
		all.JoinTopics(at, func(yield func(string, string, []int64)) bool {
			for _, g := range groups {
				for _, topic := range topics {
					if offs := join[g][topic]; offs != nil {
						yield(g, topic, offs)
					}
				}
			}
			return true
		})
		var skipped []string
		ok := indexed.JoinIndexedTopics(at, func(held func(string) bool, yield func(string, string, []int64)) bool {
			for _, g := range groups {
				for _, topic := range topics {
					if offs := join[g][topic]; offs != nil {
						if !held(topic) {
							skipped = append(skipped, g+"/"+topic)
							continue
						}
						yield(g, topic, offs)
					}
				}
			}
			return true
		})
		if !ok {
			t.Fatal("JoinIndexedTopics refused a join its source completed")
		}
		wantSkipped := [][]string{{"a/payments", "b/payments", "b/refunds"}, {"b/refunds"}}[i]
		if !slices.Equal(skipped, wantSkipped) {
			t.Errorf("join %d: left out %v, want %v", i, skipped, wantSkipped)
		}
		if got, want := indexed.Readers(), all.Readers(); !reflect.DeepEqual(got, want) || len(want) == 0 {
			t.Fatalf("join %d: readers\n%+v\nwant\n%+v", i, got, want)
		}
		if got, want := indexed.Rewinds(), all.Rewinds(); !reflect.DeepEqual(got, want) || (i == 1 && len(want) == 0) {
			t.Fatalf("join %d: rewinds %v, want %v", i, got, want)
		}
		if got, want := estateOf(indexed, at, time.Hour), estateOf(all, at, time.Hour); !reflect.DeepEqual(got, want) {
			t.Fatalf("join %d: estate\n%+v\nwant\n%+v", i, got, want)
		}
	}
	if rs := indexed.Readers()[TypeKey{"huge.event", "1"}]; len(rs) != 1 || rs[0].Group != "b" {
		t.Errorf("huge.event (beyond the tables) read by %+v, want group b", rs)
	}
	if rs := indexed.Readers()[TypeKey{"payment.taken", "2"}]; len(rs) != 2 {
		t.Errorf("payment.taken (indexed after the first join) read by %+v, want groups a and b", rs)
	}
}

// TestImportedOccurrencesJoinLikeObservedOnes: occurrences a leader
// imports from another replica's positions between joins are credited by
// the next join exactly as the same occurrences observed by the leader
// itself, and not again by the join after (each join marks only the
// partitions whose occurrences changed since the previous one).
func TestImportedOccurrencesJoinLikeObservedOnes(t *testing.T) {
	observed, imported, other := NewIndex(nil), NewIndex(nil), NewIndex(nil)
	for _, x := range []*Index{observed, imported, other} {
		feed(x, "t", 0, 2, "a.happened", "1", "s", t0)
	}
	join := func(i int) {
		at := t0.Add(time.Duration(i) * time.Minute)
		observed.Join(at, []Commit{{"g", "t", 0, 20}, {"g", "t", 1, 20}})
		imported.Join(at, []Commit{{"g", "t", 0, 20}, {"g", "t", 1, 20}})
	}
	join(1)
	for off := int64(5); off < 9; off++ { // below the committed offsets: read already, seen late
		feed(observed, "t", 0, off, "a.happened", "1", "s", t0.Add(time.Minute))
		feed(other, "t", 0, off, "a.happened", "1", "s", t0.Add(time.Minute))
		feed(observed, "t", 1, off, "a.happened", "1", "s", t0.Add(time.Minute))
		feed(other, "t", 1, off, "a.happened", "1", "s", t0.Add(time.Minute))
	}
	pos, _ := other.ExportPositions()
	imported.ImportPositions(pos)
	for i := 2; i <= 4; i++ {
		join(i)
		got, want := imported.Readers(), observed.Readers()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("join %d: readers with imported occurrences\n%+v\nwith observed ones\n%+v", i, got, want)
		}
		if rs := want[TypeKey{"a.happened", "1"}]; len(rs) != 1 || !rs[0].LastRead.Equal(t0.Add(2*time.Minute)) {
			t.Fatalf("join %d: readers %+v, want g last read at the join after the late occurrences", i, rs)
		}
	}
}
