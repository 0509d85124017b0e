package lag

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
)

// commitsEstate is a kfake cluster whose groups committed known offsets:
// group g commits partition p of topic t at 100*g+10*t+p, except every
// third partition, which it never committed.
type commitsEstate struct {
	cluster *kfake.Cluster
	c       *Collector
	groups  []string
	topics  []string
}

func newCommitsEstate(t *testing.T, groups int, opts ...kfake.Opt) *commitsEstate {
	t.Helper()
	cluster := kfaketest.Cluster(t, opts...)
	cl := kfaketest.Client(t, cluster)
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := &commitsEstate{cluster: cluster, topics: []string{"orders.v1", "payments.v1", "shipments.v1"}}
	if _, err := adm.CreateTopics(ctx, 6, 1, nil, e.topics...); err != nil {
		t.Fatal(err)
	}
	for g := range groups {
		name := fmt.Sprintf("group-%02d", g)
		e.groups = append(e.groups, name)
		offs := kadm.Offsets{}
		for ti, topic := range e.topics {
			for p := range int32(6) {
				if p%3 == 2 {
					continue
				}
				offs.Add(kadm.Offset{Topic: topic, Partition: p, At: int64(100*g + 10*ti + int(p)), LeaderEpoch: -1, Metadata: "m"})
			}
		}
		if _, err := adm.CommitOffsets(ctx, name, offs); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(Config{}, cl, Expectations{}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

// want is what group index g committed, as fetchCommits returns it.
func (e *commitsEstate) want(g int) groupCommits {
	out := groupCommits{}
	for ti, topic := range e.topics {
		offs := make([]int64, 0, 6)
		for p := range 6 {
			if p%3 == 2 {
				offs = append(offs, -1)
			} else {
				offs = append(offs, int64(100*g+10*ti+p))
			}
		}
		// the answer holds partitions up to the last committed one
		out[topic] = offs[:5]
	}
	return out
}

// countKey counts the requests of key the cluster answers from now on.
func countKey(c *kfake.Cluster, key kmsg.Key, versions *[]int16) *atomic.Int64 {
	var n atomic.Int64
	c.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		n.Add(1)
		if versions != nil {
			*versions = append(*versions, req.GetVersion())
		}
		return nil, nil, false
	})
	return &n
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFetchCommitsAsksEachCoordinatorOnce(t *testing.T) {
	e := newCommitsEstate(t, 30)
	var versions []int16
	fetches := countKey(e.cluster, kmsg.OffsetFetch, &versions)
	finds := countKey(e.cluster, kmsg.FindCoordinator, nil)
	asked := append(append([]string(nil), e.groups...), "never-committed")
	got := e.c.fetchCommits(testCtx(t), asked, anyTopic)
	for g, name := range e.groups {
		if got[name].err != nil || !reflect.DeepEqual(got[name].commits, e.want(g)) {
			t.Fatalf("%s: got %v (%v), want %v", name, got[name].commits, got[name].err, e.want(g))
		}
	}
	if r := got["never-committed"]; r.err != nil && !errors.Is(r.err, kerr.GroupIDNotFound) || len(r.commits) != 0 {
		t.Fatalf("a group without commits: %+v", r)
	}
	if n := fetches.Load(); n < 1 || n > 3 {
		t.Fatalf("%d OffsetFetch requests for 31 groups on 3 brokers, want one per coordinator", n)
	}
	for _, v := range versions {
		if v < 8 || v > 9 {
			t.Fatalf("OffsetFetch v%d, want v8–v9 (batched groups, topics by name)", v)
		}
	}
	if n := finds.Load(); n != 1 {
		t.Fatalf("%d FindCoordinator requests, want one batched lookup", n)
	}
	// the same answer as the client's own sharded request, decoded by kmsg
	if ref := e.c.fetchCommitsSharded(testCtx(t), asked, anyTopic); !reflect.DeepEqual(ref, got) {
		t.Fatalf("decoded answers differ from kmsg's:\n got %v\nwant %v", got, ref)
	}
	// a second fetch uses the cached coordinators; a topic filter applies
	only := func(topic string) bool { return topic == "payments.v1" }
	before := finds.Load() // the sharded request looked them up for the client
	got = e.c.fetchCommits(testCtx(t), e.groups[:3], only)
	if n := finds.Load() - before; n != 0 {
		t.Fatalf("%d FindCoordinator requests after a second fetch, want the cached coordinators used", n)
	}
	for g, name := range e.groups[:3] {
		want := groupCommits{"payments.v1": e.want(g)["payments.v1"]}
		if !reflect.DeepEqual(got[name].commits, want) {
			t.Fatalf("%s filtered: got %v, want %v", name, got[name].commits, want)
		}
	}
}

func TestFetchCommitsFallsBackOnBrokersBeforeV8(t *testing.T) {
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(int16(kmsg.OffsetFetch), 7)
	e := newCommitsEstate(t, 6, kfake.MaxVersions(vs))
	got := e.c.fetchCommits(testCtx(t), e.groups, anyTopic)
	for g, name := range e.groups {
		if got[name].err != nil || !reflect.DeepEqual(got[name].commits, e.want(g)) {
			t.Fatalf("%s: got %v (%v), want %v", name, got[name].commits, got[name].err, e.want(g))
		}
	}
	if !e.c.coord.tooOld.Load() {
		t.Fatal("a broker answering OffsetFetch v7 at most did not switch to the client's sharded request")
	}
}

// answerGroups makes the cluster answer OffsetFetch requests with code for
// every group while n > 0 (each request decrements it).
func answerGroups(c *kfake.Cluster, code int16, n *atomic.Int64) {
	c.ControlKey(int16(kmsg.OffsetFetch), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if n.Add(-1) < 0 {
			return nil, nil, false
		}
		req := kreq.(*kmsg.OffsetFetchRequest)
		resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
		for _, g := range req.Groups {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = g.Group, code
			resp.Groups = append(resp.Groups, rg)
		}
		return resp, nil, true
	})
}

func TestFetchCommitsFollowsAMovedCoordinator(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   int16
		lookup bool // the coordinator is looked up again
	}{
		{"not coordinator", kerr.NotCoordinator.Code, true},
		{"coordinator not available", kerr.CoordinatorNotAvailable.Code, true},
		{"loading", kerr.CoordinatorLoadInProgress.Code, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCommitsEstate(t, 4)
			e.c.fetchCommits(testCtx(t), e.groups, anyTopic) // coordinators cached
			finds := countKey(e.cluster, kmsg.FindCoordinator, nil)
			var refusals atomic.Int64
			refusals.Store(2)
			answerGroups(e.cluster, tc.code, &refusals)
			got := e.c.fetchCommits(testCtx(t), e.groups, anyTopic)
			for g, name := range e.groups {
				if got[name].err != nil || !reflect.DeepEqual(got[name].commits, e.want(g)) {
					t.Fatalf("%s: got %v (%v), want %v", name, got[name].commits, got[name].err, e.want(g))
				}
			}
			if looked := finds.Load() > 0; looked != tc.lookup {
				t.Fatalf("FindCoordinator asked again: %v, want %v", looked, tc.lookup)
			}
		})
	}
}

func TestFetchCommitsGivesUpAfterItsAttempts(t *testing.T) {
	e := newCommitsEstate(t, 1)
	var refusals atomic.Int64
	refusals.Store(1 << 30)
	answerGroups(e.cluster, kerr.NotCoordinator.Code, &refusals)
	got := e.c.fetchCommits(testCtx(t), e.groups, anyTopic)
	if err := got[e.groups[0]].err; err == nil || !strings.Contains(err.Error(), "NOT_COORDINATOR") {
		t.Fatalf("a group whose coordinator never answers: %v, want NOT_COORDINATOR", err)
	}
	if asked := 1<<30 - refusals.Load(); asked != fetchAttempts {
		t.Fatalf("asked %d times, want %d", asked, fetchAttempts)
	}
	// a refusal that is not worth retrying is reported at once
	e2 := newCommitsEstate(t, 1)
	refusals.Store(1 << 30)
	answerGroups(e2.cluster, kerr.GroupAuthorizationFailed.Code, &refusals)
	got = e2.c.fetchCommits(testCtx(t), e2.groups, anyTopic)
	if err := got[e2.groups[0]].err; err == nil || !strings.Contains(err.Error(), "GROUP_AUTHORIZATION_FAILED") {
		t.Fatalf("an unauthorized group: %v", err)
	}
	if asked := 1<<30 - refusals.Load(); asked != 1 {
		t.Fatalf("an authorization refusal asked %d times, want once", asked)
	}
}

func TestFetchCommitsAfterTheCoordinatorsMove(t *testing.T) {
	e := newCommitsEstate(t, 12)
	e.c.fetchCommits(testCtx(t), e.groups, anyTopic)
	before := map[string]int32{}
	for _, g := range e.groups {
		before[g] = e.cluster.CoordinatorFor(g)
	}
	e.cluster.RehashCoordinators()
	moved := 0
	for _, g := range e.groups {
		if e.cluster.CoordinatorFor(g) != before[g] {
			moved++
		}
	}
	if moved == 0 {
		t.Skip("the rehash moved no coordinator")
	}
	got := e.c.fetchCommits(testCtx(t), e.groups, anyTopic)
	for g, name := range e.groups {
		if got[name].err != nil || !reflect.DeepEqual(got[name].commits, e.want(g)) {
			t.Fatalf("%s after %d of 12 coordinators moved: got %v (%v), want %v", name, moved, got[name].commits, got[name].err, e.want(g))
		}
	}
	for _, g := range e.groups {
		e.c.coord.mu.Lock()
		node := e.c.coord.of[g].node
		e.c.coord.mu.Unlock()
		if node != e.cluster.CoordinatorFor(g) {
			t.Fatalf("%s cached at node %d, its coordinator is %d", g, node, e.cluster.CoordinatorFor(g))
		}
	}
}

func TestFetchCommitsWhenACoordinatorIsRemoved(t *testing.T) {
	e := newCommitsEstate(t, 12)
	e.c.fetchCommits(testCtx(t), e.groups, anyTopic)
	gone := e.cluster.CoordinatorFor(e.groups[0])
	if err := e.cluster.RemoveNode(gone); err != nil {
		t.Fatal(err)
	}
	got := e.c.fetchCommits(testCtx(t), e.groups, anyTopic)
	for g, name := range e.groups {
		if got[name].err != nil || !reflect.DeepEqual(got[name].commits, e.want(g)) {
			t.Fatalf("%s after node %d was removed: got %v (%v), want %v", name, gone, got[name].commits, got[name].err, e.want(g))
		}
	}
}

func TestCoordinatorsSweepGroupsNoCycleAsksFor(t *testing.T) {
	e := newCommitsEstate(t, 2)
	cached := func() []string {
		e.c.coord.mu.Lock()
		defer e.c.coord.mu.Unlock()
		var gs []string
		for g := range e.c.coord.of {
			gs = append(gs, g)
		}
		return gs
	}
	e.c.coord.sweep()
	e.c.fetchCommits(testCtx(t), e.groups, anyTopic)
	e.c.coord.sweep()
	e.c.fetchCommits(testCtx(t), e.groups[:1], anyTopic)
	if n := len(cached()); n != 2 {
		t.Fatalf("%d cached after one sweep, want both (asked in the cycle before)", n)
	}
	e.c.coord.sweep()
	if gs := cached(); len(gs) != 1 || gs[0] != e.groups[0] {
		t.Fatalf("cached after a cycle that did not ask for %s: %v", e.groups[1], gs)
	}
}

// randomOffsetFetch is an OffsetFetch answer at version v with random
// groups, topics (some repeated), partitions (some out of order, negative,
// erroring or far out), metadata (null, empty, long) and tagged fields.
func randomOffsetFetch(r *rand.Rand, v int16) *kmsg.OffsetFetchResponse {
	resp := kmsg.NewPtrOffsetFetchResponse()
	resp.Version = v
	resp.ThrottleMillis = r.Int32N(100)
	topics := []string{"a", "orders.v1", "payments.v1", strings.Repeat("t", 200)}
	for g := range r.IntN(5) {
		rg := kmsg.NewOffsetFetchResponseGroup()
		rg.Group = fmt.Sprintf("g%d", g%3)
		if r.IntN(6) == 0 {
			rg.ErrorCode = []int16{kerr.GroupIDNotFound.Code, kerr.NotCoordinator.Code, kerr.GroupAuthorizationFailed.Code}[r.IntN(3)]
		}
		for range r.IntN(4) {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic = topics[r.IntN(len(topics))]
			for range r.IntN(8) {
				rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				rp.Partition = r.Int32N(10)
				switch r.IntN(10) {
				case 0:
					rp.Partition = -1
				case 1:
					rp.Partition = maxCommittedPartition + r.Int32N(10)
				}
				rp.Offset = r.Int64N(1<<40) - 1
				rp.LeaderEpoch = r.Int32N(5) - 1
				switch r.IntN(3) {
				case 0:
					rp.Metadata = nil
				case 1:
					s := ""
					rp.Metadata = &s
				default:
					s := strings.Repeat("m", r.IntN(300))
					rp.Metadata = &s
				}
				if r.IntN(8) == 0 {
					rp.ErrorCode = kerr.UnstableOffsetCommit.Code
				}
				if r.IntN(10) == 0 {
					rp.UnknownTags.Set(uint32(r.IntN(5)), []byte("tag"))
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			rg.Topics = append(rg.Topics, rt)
		}
		resp.Groups = append(resp.Groups, rg)
	}
	if r.IntN(5) == 0 {
		resp.UnknownTags.Set(7, []byte("top"))
	}
	return resp
}

// kmsgDecoded is what fetchCommits made of an answer through kmsg.
func kmsgDecoded(resp *kmsg.OffsetFetchResponse, want func(string) bool) map[string]fetchedGroup {
	out := map[string]fetchedGroup{}
	for i := range resp.Groups {
		out[resp.Groups[i].Group] = decodeGroup(&resp.Groups[i], want)
	}
	return out
}

func TestDecodeOffsetFetchAgreesWithKmsg(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	wants := []func(string) bool{anyTopic, func(t string) bool { return t != "orders.v1" }}
	for i := range 3000 {
		v := int16(8 + i%2)
		resp := randomOffsetFetch(r, v)
		raw := resp.AppendTo(nil)
		want := wants[i%2]
		ref := kmsg.NewPtrOffsetFetchResponse()
		ref.Version = v
		if err := ref.ReadFrom(raw); err != nil {
			t.Fatal(err)
		}
		got, throttle, err := decodeOffsetFetch(raw, nil, want)
		if err != nil {
			t.Fatalf("answer %d (v%d): %v", i, v, err)
		}
		if throttle != resp.ThrottleMillis {
			t.Fatalf("throttle %d, want %d", throttle, resp.ThrottleMillis)
		}
		if exp := kmsgDecoded(ref, want); !reflect.DeepEqual(got, exp) {
			t.Fatalf("answer %d (v%d):\n got %v\nwant %v", i, v, got, exp)
		}
		// a truncated answer is an error for both
		cut := raw[:r.IntN(len(raw))]
		ref = kmsg.NewPtrOffsetFetchResponse()
		ref.Version = v
		_, _, err = decodeOffsetFetch(cut, nil, want)
		if refErr := ref.ReadFrom(cut); (err == nil) != (refErr == nil) {
			t.Fatalf("answer %d cut to %d of %d bytes: ours %v, kmsg's %v", i, len(cut), len(raw), err, refErr)
		}
	}
}

// TestDecodeOffsetFetchStopsAtACorruptTagCount: a tagged-field count of
// four billion in a 20-byte answer is an error at once (kmsg reads it
// one tag at a time, for seconds).
func TestDecodeOffsetFetchStopsAtACorruptTagCount(t *testing.T) {
	raw := []byte{0, 0, 0, 0, 2, 2, 'g', 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3}
	if _, _, err := decodeOffsetFetch(raw, nil, anyTopic); err == nil {
		t.Fatal("an answer claiming 4,294,967,295 tagged fields in 3 bytes decoded")
	}
}

func FuzzDecodeOffsetFetch(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 20 {
		f.Add(randomOffsetFetch(r, 8).AppendTo(nil), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, raw []byte, filter bool) {
		want := anyTopic
		if filter {
			want = func(t string) bool { return t != "orders.v1" }
		}
		got, _, err := decodeOffsetFetch(raw, nil, want)
		ref := kmsg.NewPtrOffsetFetchResponse()
		ref.Version = 8
		done := make(chan error, 1)
		go func() { done <- ref.ReadFrom(raw) }()
		var refErr error
		select {
		case refErr = <-done:
		case <-time.After(time.Second):
			// kmsg reads a tagged-field count one tag at a time even
			// once the input has run out (billions of times for a
			// corrupt count): such an answer is malformed, ours too
			if err == nil {
				t.Fatal("kmsg still reading an answer we decoded")
			}
			return
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("ours %v, kmsg's %v", err, refErr)
		}
		if err == nil {
			if exp := kmsgDecoded(ref, want); !reflect.DeepEqual(got, exp) {
				t.Fatalf("\n got %v\nwant %v", got, exp)
			}
		}
	})
}

// TestDecodeOffsetFetchAllocatesPerTopic: 10 groups of 5 topics of 200
// committed partitions each decode in the offsets they hold and a map per
// group; kmsg allocates a struct and a metadata string per partition.
func TestDecodeOffsetFetchAllocatesPerTopic(t *testing.T) {
	resp := kmsg.NewPtrOffsetFetchResponse()
	resp.Version = 9
	for g := range 10 {
		rg := kmsg.NewOffsetFetchResponseGroup()
		rg.Group = fmt.Sprintf("group-%d", g)
		for ti := range 5 {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic = fmt.Sprintf("topic-%d", ti)
			for p := range int32(200) {
				rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				rp.Partition, rp.Offset = p, int64(p)*7
				m := ""
				rp.Metadata = &m
				rt.Partitions = append(rt.Partitions, rp)
			}
			rg.Topics = append(rg.Topics, rt)
		}
		resp.Groups = append(resp.Groups, rg)
	}
	raw := resp.AppendTo(nil)
	const partitions = 10 * 5 * 200
	offsets := float64(partitions * 8)
	ours := float64(allocatedBy(func() {
		if _, _, err := decodeOffsetFetch(raw, nil, anyTopic); err != nil {
			t.Fatal(err)
		}
	}))
	theirs := float64(allocatedBy(func() {
		ref := kmsg.NewPtrOffsetFetchResponse()
		ref.Version = 9
		if err := ref.ReadFrom(raw); err != nil {
			t.Fatal(err)
		}
		kmsgDecoded(ref, anyTopic)
	}))
	t.Logf("decoding %d committed partitions: %.0f bytes (the offsets alone %.0f), through kmsg %.0f", partitions, ours, offsets, theirs)
	if ours > 1.5*offsets+16<<10 {
		t.Fatalf("decoding %d committed partitions allocated %.0f bytes, want about the %.0f of their offsets", partitions, ours, offsets)
	}
}

// allocatedBy is the fewest bytes fn allocated in five runs.
func allocatedBy(fn func()) uint64 {
	least := uint64(1 << 62)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fn()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}
