// Package estate builds the synthetic Kafka estates the lag and share
// benchmarks and estate-size tests run on: topics × partitions with a few
// records each, and member-less consumer groups that committed on some of
// the topics. Produced and committed offsets are pure functions of the
// indexes, so any process can compute every group's exact lag.
package estate

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// Shape is an estate: Topics × Parts partitions, and Groups groups that
// each committed on PerGroup topics.
type Shape struct{ Topics, Parts, Groups, PerGroup int }

// Shapes of the issues' benchmarks: 10k partitions × 500 groups (issue 9),
// 20k × 1,000 and 50k × 2,000 (issue 22), each group on 20 topics.
var (
	Issue9  = Shape{Topics: 200, Parts: 50, Groups: 500, PerGroup: 20}
	Shape20 = Shape{Topics: 400, Parts: 50, Groups: 1000, PerGroup: 20}
	Shape50 = Shape{Topics: 1000, Parts: 50, Groups: 2000, PerGroup: 20}
	// Tiny is one topic of one partition and one group: what the daemon
	// costs at rest whatever the estate's size (its fixed cost)
	Tiny = Shape{Topics: 1, Parts: 1, Groups: 1, PerGroup: 1}
)

// Named returns the shape called name ("10k", "20k", "50k") and whether
// there is one.
func Named(name string) (Shape, bool) {
	s, ok := map[string]Shape{"10k": Issue9, "20k": Shape20, "50k": Shape50, "tiny": Tiny}[name]
	return s, ok
}

// String is "partitions×groups", e.g. "10000×500".
func (s Shape) String() string { return fmt.Sprintf("%d×%d", s.Topics*s.Parts, s.Groups) }

// Topic is the name of topic t.
func (s Shape) Topic(t int) string { return fmt.Sprintf("bench.t%04d", t) }

// Group is the name of group g.
func (s Shape) Group(g int) string { return fmt.Sprintf("bench-g%04d", g) }

// Produced is the end offset of partition p of topic t.
func (s Shape) Produced(t, p int) int64 { return int64(1 + (t*7+p)%5) }

// Committed is group g's committed offset on partition p of topic t.
func (s Shape) Committed(g, t, p int) int64 { return int64((g + p) % int(s.Produced(t, p)+1)) }

// TopicsOf returns the topic indexes group g committed on.
func (s Shape) TopicsOf(g int) []int {
	out := make([]int, s.PerGroup)
	for i := range out {
		out[i] = (g*3 + i) % s.Topics
	}
	return out
}

// WantLag is group g's exact lag in records per topic name.
func (s Shape) WantLag(g int) map[string]int64 {
	want := map[string]int64{}
	for _, t := range s.TopicsOf(g) {
		for p := range s.Parts {
			want[s.Topic(t)] += s.Produced(t, p) - s.Committed(g, t, p)
		}
	}
	return want
}

// Build creates the topics, produces the records and commits every group
// (cl needs kgo.RecordPartitioner(kgo.ManualPartitioner())).
func (s Shape) Build(ctx context.Context, cl *kgo.Client) error {
	adm := kadm.NewClient(cl)
	names := make([]string, s.Topics)
	for t := range names {
		names[t] = s.Topic(t)
	}
	created, err := adm.CreateTopics(ctx, int32(s.Parts), 1, nil, names...)
	if err == nil {
		err = created.Error()
	}
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var recs []*kgo.Record
	for t := range s.Topics {
		for p := range s.Parts {
			for range s.Produced(t, p) {
				recs = append(recs, &kgo.Record{Topic: s.Topic(t), Partition: int32(p), Value: []byte(`{}`)})
			}
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	var eg errgroup.Group
	eg.SetLimit(8)
	for g := range s.Groups {
		eg.Go(func() error { return adm.CommitAllOffsets(ctx, s.Group(g), s.offsetsOf(g)) })
	}
	if err := eg.Wait(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s Shape) offsetsOf(g int) kadm.Offsets {
	var os kadm.Offsets
	for _, t := range s.TopicsOf(g) {
		for p := range s.Parts {
			os.AddOffset(s.Topic(t), int32(p), s.Committed(g, t, p), -1)
		}
	}
	return os
}
