package lag

import "sort"

// Commits calls fn, group by group in snap's order and topic by topic in
// name order, with every committed offset GroupDetail would list for the
// groups of snap (the partitions sampled in its cycle; none for a stale
// group), read from the collector's state without building any group's
// detail. It returns false, calling fn for nothing, when the collector
// has begun another cycle since snap (take the newer snapshot).
func (c *Collector) Commits(snap *Snapshot, fn func(group, topic string, partition int32, committed int64)) bool {
	if snap == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state
	if st.cycle != snap.Cycle {
		return false
	}
	var topics []string
	for i := range snap.Groups {
		g := &snap.Groups[i]
		gs := st.groups[g.Group]
		if g.Stale || gs == nil || gs.info == nil {
			continue
		}
		topics = topics[:0]
		for t, gt := range gs.topics {
			if gt.lastCycle == st.cycle {
				topics = append(topics, t)
			}
		}
		sort.Strings(topics)
		for _, t := range topics {
			c.topicCommits(g.Group, t, gs.topics[t], fn)
		}
	}
	return true
}

// topicCommits calls fn for the partitions of one group's topic sampled
// in the current cycle.
func (c *Collector) topicCommits(group, topic string, gt *groupTopicState, fn func(string, string, int32, int64)) {
	ts := c.state.topics[topic]
	if ts == nil {
		return
	}
	for p := range min(ts.partitions, len(gt.parts)) {
		if w := &gt.parts[p]; int64(w.seen) == c.state.cycle {
			fn(group, topic, int32(p), w.committed)
		}
	}
}
