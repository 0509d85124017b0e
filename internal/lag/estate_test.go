package lag_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// shape is a synthetic estate: topics × partitions, and groups that each
// committed on perGroup topics, with no members. Produced and committed
// offsets are pure functions of the indexes, so any process can compute
// the exact expected lag.
type shape struct{ topics, parts, groups, perGroup int }

// issueShape is the benchmark of issue 9: 200 × 50 partitions, 500 groups
// on 20 topics each, 500,000 group partitions; with
// EVENTWATCH_LAG_BENCH_SHAPE=50k the large estate of issue 21: 1,000 × 50
// partitions, 2,000 groups on 20 topics each, 2,000,000 group partitions.
var issueShape = func() shape {
	if os.Getenv("EVENTWATCH_LAG_BENCH_SHAPE") == "50k" {
		return shape{topics: 1000, parts: 50, groups: 2000, perGroup: 20}
	}
	return shape{topics: 200, parts: 50, groups: 500, perGroup: 20}
}()

func (s shape) topic(t int) string { return fmt.Sprintf("bench.t%04d", t) }
func (s shape) group(g int) string { return fmt.Sprintf("bench-g%04d", g) }

// produced is the end offset of partition p of topic t.
func (s shape) produced(t, p int) int64 { return int64(1 + (t*7+p)%5) }

// committed is group g's committed offset on partition p of topic t.
func (s shape) committed(g, t, p int) int64 { return int64((g + p) % int(s.produced(t, p)+1)) }

// topicsOf returns the topic indexes group g committed on.
func (s shape) topicsOf(g int) []int {
	out := make([]int, s.perGroup)
	for i := range out {
		out[i] = (g*3 + i) % s.topics
	}
	return out
}

// build creates the topics, produces the records and commits every group.
func (s shape) build(ctx context.Context, cl *kgo.Client) error {
	adm := kadm.NewClient(cl)
	names := make([]string, s.topics)
	for t := range names {
		names[t] = s.topic(t)
	}
	created, err := adm.CreateTopics(ctx, int32(s.parts), 1, nil, names...)
	if err == nil {
		err = created.Error()
	}
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var recs []*kgo.Record
	for t := range s.topics {
		for p := range s.parts {
			for range s.produced(t, p) {
				recs = append(recs, &kgo.Record{Topic: s.topic(t), Partition: int32(p), Value: []byte(`{}`)})
			}
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	var eg errgroup.Group
	eg.SetLimit(8)
	for g := range s.groups {
		eg.Go(func() error { return adm.CommitAllOffsets(ctx, s.group(g), s.offsetsOf(g)) })
	}
	if err := eg.Wait(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s shape) offsetsOf(g int) kadm.Offsets {
	var os kadm.Offsets
	for _, t := range s.topicsOf(g) {
		for p := range s.parts {
			os.AddOffset(s.topic(t), int32(p), s.committed(g, t, p), -1)
		}
	}
	return os
}

// verify checks every group's lag, topic by topic, against the formulas.
func (s shape) verify(snap *lag.Snapshot) error {
	if len(snap.Groups) != s.groups {
		return fmt.Errorf("%d groups in the snapshot, want %d", len(snap.Groups), s.groups)
	}
	for g := range s.groups {
		gl, ok := snap.Group(s.group(g))
		if !ok || gl.Stale || len(gl.Topics) != s.perGroup {
			return fmt.Errorf("group %s: found %v stale %v topics %d, want %d fresh topics", s.group(g), ok, gl.Stale, len(gl.Topics), s.perGroup)
		}
		want := map[string]int64{}
		for _, t := range s.topicsOf(g) {
			for p := range s.parts {
				want[s.topic(t)] += s.produced(t, p) - s.committed(g, t, p)
			}
		}
		for _, tl := range gl.Topics {
			if tl.LagRecords != want[tl.Topic] || tl.Committed != s.parts {
				return fmt.Errorf("group %s topic %s: lag %d over %d partitions, want %d over %d",
					s.group(g), tl.Topic, tl.LagRecords, tl.Committed, want[tl.Topic], s.parts)
			}
		}
	}
	return nil
}

// TestEstateSmall runs the benchmark's code path on a small estate, so the
// default (and -short) test run covers it: every group's lag is exact.
func TestEstateSmall(t *testing.T) {
	s := shape{topics: 12, parts: 5, groups: 30, perGroup: 4}
	f := newFixture(t, nil)
	if err := s.build(f.ctx(), f.cl); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.FetchGroupsPerReq = 7 // several batches, one of them partial
	c, reg := f.collector(cfg, lag.Expectations{})
	for range 2 {
		if err := c.CollectOnce(f.ctx()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.verify(c.Snapshot()); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gather: %v", err)
	}
}
