package lag

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// buildGroups computes every watched group's view for this cycle. A group
// whose offsets could not be fetched keeps its previous view, marked stale,
// with the error that prevented the update.
func (c *Collector) buildGroups(cy *cycle) []GroupLag {
	st := c.state
	names := make([]string, 0, len(cy.groups))
	for g := range cy.groups {
		names = append(names, g)
	}
	sort.Strings(names)
	out := make([]GroupLag, 0, len(names))
	for _, g := range names {
		info, gs := cy.groups[g], st.groups[g]
		if !cy.fetched[g] || gs == nil {
			out = append(out, c.staleGroup(g, info, gs, cy.failed[g]))
			continue
		}
		gs.info = info
		gl := c.buildGroup(cy.at, g, info, gs, c.cfg.Granularity == GranularityPartition)
		if gl.LagSeconds.Known() && float64(gl.LagSeconds) > c.cfg.LagObjective {
			gs.breach += st.sincePrevious().Seconds()
		}
		gl.BreachSeconds = gs.breach
		gs.last = &gl
		out = append(out, gl)
	}
	return out
}

// staleGroup is the view of a group whose offsets were not fetched.
func (c *Collector) staleGroup(g string, info *groupInfo, gs *groupState, fetchErr error) GroupLag {
	gl := GroupLag{Group: g, LagSeconds: Seconds(math.NaN())}
	if gs != nil && gs.last != nil {
		gl = *gs.last
	}
	gl.Stale = true
	gl.Error = "offsets not fetched this cycle"
	if info != nil {
		gl.Protocol, gl.State, gl.Members = info.protocol, info.state, info.members
		if info.err != nil {
			gl.Error = info.err.Error()
		}
	}
	if fetchErr != nil {
		gl.Error = fetchErr.Error()
	}
	if gl.Why == "" {
		gl.Why = "no data yet: " + gl.Error
	}
	return gl
}

// buildGroup computes lag, time lag and status of one group, as of at (the
// start of the state's last cycle); with partitions, it keeps the
// per-partition detail.
func (c *Collector) buildGroup(at time.Time, g string, info *groupInfo, gs *groupState, partitions bool) GroupLag {
	st := c.state
	gl := GroupLag{Group: g, Protocol: info.protocol, State: info.state, Members: info.members, LagSeconds: Seconds(math.NaN())}
	if info.err != nil {
		gl.Error = info.err.Error()
	}
	var counts statusCounts
	var total int
	examples := map[Status]string{}
	topics := make([]string, 0, len(gs.topics))
	for t, gt := range gs.topics {
		if gt.lastCycle == st.cycle {
			topics = append(topics, t)
		}
	}
	sort.Strings(topics)
	for _, t := range topics {
		tl, n := c.buildTopic(at, info, t, gs.topics[t], st.topics[t], &counts, examples, partitions)
		if n == 0 {
			continue
		}
		total += n
		gl.LagRecords += tl.LagRecords
		gl.LagSeconds = maxSeconds(gl.LagSeconds, tl.LagSeconds)
		gl.Topics = append(gl.Topics, tl)
	}
	gl.Status, gl.Cause = counts.groupStatus()
	gl.Why = why(gl.Status, gl.Cause, &counts, total, min(int(st.cycle), st.window), examples[gl.Cause])
	return gl
}

// buildTopic computes a group's lag on one topic, partition by partition.
func (c *Collector) buildTopic(at time.Time, info *groupInfo, topic string, gt *groupTopicState, ts *topicState,
	counts *statusCounts, examples map[Status]string, partitions bool,
) (tl TopicLag, n int) {
	st := c.state
	tl = TopicLag{Topic: topic, LagSeconds: Seconds(math.NaN())}
	if ts == nil {
		return tl, 0
	}
	if partitions {
		tl.Partitions = make([]PartitionLag, 0, seenNow(gt, st.cycle))
	}
	for p := range min(ts.partitions, len(gt.parts)) {
		if int64(gt.parts[p].seen) != st.cycle {
			continue
		}
		pl := c.buildPartition(at, info, topic, p, &gt.parts[p], ts)
		n++
		counts[pl.Status]++
		if _, ok := examples[pl.Status]; !ok && pl.Status != StatusOK {
			examples[pl.Status] = fmt.Sprintf("%s/%d lag %d", topic, p, pl.LagRecords)
		}
		tl.LagRecords += pl.LagRecords
		tl.LagSeconds = maxSeconds(tl.LagSeconds, pl.LagSeconds)
		tl.Status = worse(tl.Status, pl.Status)
		if partitions {
			tl.Partitions = append(tl.Partitions, pl)
		}
	}
	tl.Committed = n
	return tl, n
}

func (c *Collector) buildPartition(at time.Time, info *groupInfo, topic string, p int, w *partWindow, ts *topicState) PartitionLag {
	st := c.state
	start, end := st.current(ts, p)
	pl := PartitionLag{Partition: int32(p), Committed: w.committed, End: end, LagSeconds: Seconds(math.NaN())}
	if end == noSample {
		pl.End = -1
	} else {
		pl.LagRecords = w.lag
		pl.LagSeconds = Seconds(timeLag(ts.tables[p], w.committed, start, w.lag, at))
	}
	pl.Owned = owns(info, topic, int32(p))
	pl.Status = w.status(int32(st.cycle), int32(st.window), pl.Owned)
	return pl
}

// GroupDetail returns a group of the latest snapshot with its
// per-partition lag and status. With granularity partition the snapshot
// already holds them; otherwise they are rebuilt from the collector's
// state (waiting for a running cycle to finish), which keeps 500,000 group
// partitions out of every snapshot.
func (c *Collector) GroupDetail(name string) (GroupLag, bool) {
	snap := c.Snapshot()
	g, ok := snap.Group(name)
	if !ok || g.Stale || c.cfg.Granularity == GranularityPartition {
		return g, ok
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	gs := c.state.groups[name]
	if gs == nil || gs.info == nil || c.state.cycle != snap.Cycle {
		return g, true
	}
	detail := c.buildGroup(snap.Time, name, gs.info, gs, true)
	g.Topics = detail.Topics
	return g, true
}

// seenNow counts the partitions of gt sampled in cycle.
func seenNow(gt *groupTopicState, cycle int64) int {
	n := 0
	for i := range gt.parts {
		if int64(gt.parts[i].seen) == cycle {
			n++
		}
	}
	return n
}

// timeLag is the partition's lag in seconds: 0 without offset lag, and
// measured from the start offset when the committed offset was deleted.
func timeLag(t *offsetTable, committed, start, lag int64, now time.Time) float64 {
	if lag == 0 {
		return 0
	}
	if start >= 0 && committed < start {
		committed = start
	}
	return t.lagSeconds(committed, now)
}

// owns reports whether a member of the group is assigned the partition;
// without a decodable assignment, any member counts as an owner.
func owns(info *groupInfo, topic string, p int32) bool {
	if info == nil || info.members == 0 {
		return false
	}
	if len(info.owned) == 0 {
		return true
	}
	return info.owned.Lookup(topic, p)
}

// worse returns the more severe of two partition statuses.
func worse(a, b Status) Status {
	if b > a {
		return b
	}
	return a
}

func maxSeconds(a, b Seconds) Seconds {
	switch {
	case !b.Known():
		return a
	case !a.Known():
		return b
	}
	return Seconds(math.Max(float64(a), float64(b)))
}
