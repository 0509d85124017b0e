package lag

import (
	"math"
	"sort"
)

// Commits calls fn, group by group in snap's order and topic by topic in
// name order, with every committed offset GroupDetail would list for the
// groups of snap (the partitions sampled in its cycle; none for a stale
// group), read from the collector's state without building any group's
// detail. It returns false, calling fn for nothing, when the collector
// has begun another cycle since snap (take the newer snapshot).
func (c *Collector) Commits(snap *Snapshot, fn func(group, topic string, partition int32, committed int64)) bool {
	return c.TopicCommits(snap, func(group, topic string, committed []int64) {
		for p, off := range committed {
			if off != NotSampled {
				fn(group, topic, int32(p), off)
			}
		}
	})
}

// NotSampled marks, in TopicCommits' slices, a partition not sampled in
// the snapshot's cycle.
const NotSampled = math.MinInt64

// TopicCommits is Commits one group's topic at a time: committed[p] is
// partition p's committed offset, NotSampled for a partition Commits
// would not list. The slice is reused: valid only during the call.
func (c *Collector) TopicCommits(snap *Snapshot, fn func(group, topic string, committed []int64)) bool {
	return c.TopicCommitsOf(snap, nil, fn)
}

// TopicCommitsOf is TopicCommits for the topics want reports true for
// (nil: every topic): a topic it refuses costs no slice of offsets. want
// is called under the collector's lock, once per group's topic, in no
// particular order.
func (c *Collector) TopicCommitsOf(snap *Snapshot, want func(topic string) bool, fn func(group, topic string, committed []int64)) bool {
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
	var buf []int64
	for i := range snap.Groups {
		g := &snap.Groups[i]
		gs := st.groups[g.Group]
		if g.Stale || gs == nil || gs.info == nil {
			continue
		}
		topics = topics[:0]
		for t, gt := range gs.topics {
			if gt.lastCycle == st.cycle && (want == nil || want(t)) {
				topics = append(topics, t)
			}
		}
		sort.Strings(topics)
		for _, t := range topics {
			if buf = c.topicCommits(gs.topics[t], t, buf[:0]); len(buf) > 0 {
				fn(g.Group, t, buf)
			}
		}
	}
	return true
}

// topicCommits appends to buf, by partition, one group's committed
// offsets on topic sampled in the current cycle (NotSampled for the
// others).
func (c *Collector) topicCommits(gt *groupTopicState, topic string, buf []int64) []int64 {
	ts := c.state.topics[topic]
	if ts == nil {
		return buf
	}
	for p := range min(ts.partitions, len(gt.parts)) {
		if w := &gt.parts[p]; int64(w.seen) == c.state.cycle {
			buf = append(buf, w.committed)
		} else {
			buf = append(buf, NotSampled)
		}
	}
	return buf
}
