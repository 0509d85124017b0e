package daemon

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/share"
	"github.com/eventwatch/eventwatch/internal/topology"
)

// estateSnapshot is a lag snapshot of the 10k shape's topology: 500
// topics of 20 partitions, 500 groups reading 20 topics each.
func estateSnapshot(cycle int64) *lag.Snapshot {
	s := &lag.Snapshot{Cycle: cycle, Time: time.Unix(cycle*15, 0)}
	for t := range 500 {
		s.Topics = append(s.Topics, topology.Topic{Topic: fmt.Sprintf("estate.topic.%04d", t), Partitions: 20, Replicas: 3, RetentionMS: 604800000, CleanupPolicy: "delete"})
	}
	for g := range 500 {
		gl := lag.GroupLag{Group: fmt.Sprintf("estate-group-%04d", g)}
		for t := range 20 {
			gl.Topics = append(gl.Topics, lag.TopicLag{Topic: fmt.Sprintf("estate.topic.%04d", (g+t*25)%500)})
		}
		s.Groups = append(s.Groups, gl)
	}
	return s
}

// BenchmarkEstateShareRound is one share round of the asyncapi document
// at the 10k shape on an idle leader: before, the document built,
// marshalled and split (what the board did with it every share.interval);
// now, the check that nothing changed, within a lag cycle and at a new
// cycle's snapshot (the cluster views compared).
func BenchmarkEstateShareRound(b *testing.B) {
	cfg := config.Default()
	board, err := share.New(cfg.Share, nil, prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	d := &daemon{cfg: cfg, board: board, learner: catalog.NewLearner("data", nil)}
	s := &estateShare{d: d}
	kind := share.Kind{Name: kindAsyncAPI, Splits: []share.Split{
		{Path: "state.types", Key: []string{"type", "version"}}, {Path: "state.topics", Key: []string{"topic"}},
		{Path: "cluster.topics", Key: []string{"topic"}}, {Path: "cluster.groups", Key: []string{"group"}},
	}}
	snap, next := estateSnapshot(7), estateSnapshot(8)
	b.Run("built", func(b *testing.B) {
		for range b.N {
			raw, err := json.Marshal(s.ownAt(snap))
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := kind.Split(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	s.sent = &sentEstate{gen: d.learner.Generation(), cluster: s.ownAt(snap).Cluster, cycle: snap.Cycle, at: snap.Time}
	b.Run("unchanged-same-cycle", func(b *testing.B) {
		for range b.N {
			if !s.unchanged(d.learner.Generation(), snap) {
				b.Fatal("changed")
			}
		}
	})
	b.Run("unchanged-new-cycle", func(b *testing.B) {
		for i := range b.N {
			sn := snap
			if i%2 == 0 {
				sn = next
			}
			if !s.unchanged(d.learner.Generation(), sn) {
				b.Fatal("changed")
			}
		}
	})
}
