package catalog

import (
	"slices"

	"github.com/eventwatch/eventwatch/internal/lag"
)

// Cluster is what discovery needs from the lag collector: every topic's
// layout and configuration, and which topics each consumer group has
// committed offsets on. It is small and plain, so the leader shares it
// with the other replicas.
type Cluster struct {
	Topics []lag.TopicInfo `json:"topics"` // sorted by topic
	Groups []GroupTopics   `json:"groups"` // sorted by group
}

// GroupTopics is a consumer group and the topics it reads.
type GroupTopics struct {
	Group  string   `json:"group"`
	Topics []string `json:"topics"`
}

// ClusterOf extracts the discovery view of a lag snapshot (nil for nil),
// leaving out the consumer groups named in own (eventwatch's own sampler,
// leader and stitching groups: they read every topic but consume nothing).
func ClusterOf(s *lag.Snapshot, own ...string) *Cluster {
	if s == nil {
		return nil
	}
	c := &Cluster{Topics: s.Topics, Groups: make([]GroupTopics, 0, len(s.Groups))}
	for _, g := range s.Groups {
		if slices.Contains(own, g.Group) {
			continue
		}
		gt := GroupTopics{Group: g.Group}
		for _, t := range g.Topics {
			gt.Topics = append(gt.Topics, t.Topic)
		}
		c.Groups = append(c.Groups, gt)
	}
	return c
}
