package lag

import (
	"sort"
	"strconv"
)

// buildTopics lists every topic of the state with its partition count,
// replica count and configuration, sorted by name.
func (c *Collector) buildTopics() []TopicInfo {
	out := make([]TopicInfo, 0, len(c.state.topics))
	for name, ts := range c.state.topics {
		ti := TopicInfo{Topic: name, Partitions: ts.partitions, Replicas: max(ts.replicas, 0), CleanupPolicy: ts.cleanup}
		if v, err := strconv.ParseInt(ts.retentionMS, 10, 64); err == nil {
			ti.RetentionMS = max(v, -1)
		}
		out = append(out, ti)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}
