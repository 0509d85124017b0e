// Package topology holds what the admin API says about a Kafka cluster's
// shape, in the words both its producer and its readers use: each topic's
// layout and configuration, and which topics each consumer group reads.
// The lag collector (internal/lag) fills it every cycle; the AsyncAPI
// discovery (internal/catalog) reads it, also on replicas that receive it
// from the leader. It is a leaf package: it imports nothing of eventwatch,
// so neither side depends on the other.
package topology

import "slices"

// Topic is a topic's layout and configuration as the admin API reports
// them (the AsyncAPI discovery's Kafka channel bindings).
type Topic struct {
	Topic         string `json:"topic"`
	Partitions    int    `json:"partitions"`
	Replicas      int    `json:"replicas"`                 // smallest replica count over the partitions; 0 when unknown
	RetentionMS   int64  `json:"retention_ms"`             // retention.ms; -1 infinite; 0 when unknown
	CleanupPolicy string `json:"cleanup_policy,omitempty"` // cleanup.policy, e.g. "delete", "compact" or "compact,delete"
}

// Cluster is every topic's layout and configuration, and which topics
// each consumer group has committed offsets on. It is small and plain, so
// the leader shares it with the other replicas.
type Cluster struct {
	Topics []Topic       `json:"topics"` // sorted by topic
	Groups []GroupTopics `json:"groups"` // sorted by group
}

// GroupTopics is a consumer group and the topics it reads.
type GroupTopics struct {
	Group  string   `json:"group"`
	Topics []string `json:"topics"`
}

// Without returns c without the consumer groups named in drop (a copy;
// nil for nil).
func (c *Cluster) Without(drop ...string) *Cluster {
	if c == nil {
		return nil
	}
	out := &Cluster{Topics: c.Topics, Groups: make([]GroupTopics, 0, len(c.Groups))}
	for _, g := range c.Groups {
		if !slices.Contains(drop, g.Group) {
			out.Groups = append(out.Groups, g)
		}
	}
	return out
}
