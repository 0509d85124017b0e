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
	buf := make([]sample, 0, st.window)
	for _, g := range names {
		info, gs := cy.groups[g], st.groups[g]
		if !cy.fetched[g] || gs == nil {
			out = append(out, c.staleGroup(g, info, gs))
			continue
		}
		gl := c.buildGroup(cy, g, info, gs, &buf)
		gs.last = &gl
		out = append(out, gl)
	}
	return out
}

// staleGroup is the view of a group whose offsets were not fetched.
func (c *Collector) staleGroup(g string, info *groupInfo, gs *groupState) GroupLag {
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
	if gl.Why == "" {
		gl.Why = "no data yet: " + gl.Error
	}
	return gl
}

// buildGroup computes lag, time lag and status of one group.
func (c *Collector) buildGroup(cy *cycle, g string, info *groupInfo, gs *groupState, buf *[]sample) GroupLag {
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
		tl := c.buildTopic(cy, info, t, gs.topics[t], st.topics[t], buf, &counts, examples)
		if len(tl.Partitions) == 0 {
			continue
		}
		total += len(tl.Partitions)
		gl.LagRecords += tl.LagRecords
		gl.LagSeconds = maxSeconds(gl.LagSeconds, tl.LagSeconds)
		gl.Topics = append(gl.Topics, tl)
	}
	gl.Status, gl.Cause = counts.groupStatus()
	gl.Why = why(gl.Status, gl.Cause, &counts, total, min(int(st.cycle), st.window), examples[gl.Cause])
	return gl
}

// buildTopic computes a group's lag on one topic, partition by partition.
func (c *Collector) buildTopic(cy *cycle, info *groupInfo, topic string, gt *groupTopicState, ts *topicState,
	buf *[]sample, counts *statusCounts, examples map[Status]string,
) TopicLag {
	st := c.state
	tl := TopicLag{Topic: topic, LagSeconds: Seconds(math.NaN())}
	if ts == nil {
		return tl
	}
	sl := st.slot(st.cycle)
	for p := range ts.partitions {
		committed := gt.committed[p*st.window+sl]
		if committed == noSample {
			continue
		}
		pl := c.buildPartition(cy, info, topic, p, committed, gt, ts, buf)
		counts[pl.Status]++
		if _, ok := examples[pl.Status]; !ok && pl.Status != StatusOK {
			examples[pl.Status] = fmt.Sprintf("%s/%d lag %d", topic, p, pl.LagRecords)
		}
		tl.LagRecords += pl.LagRecords
		tl.LagSeconds = maxSeconds(tl.LagSeconds, pl.LagSeconds)
		tl.Status = worse(tl.Status, pl.Status)
		tl.Partitions = append(tl.Partitions, pl)
	}
	return tl
}

func (c *Collector) buildPartition(cy *cycle, info *groupInfo, topic string, p int, committed int64,
	gt *groupTopicState, ts *topicState, buf *[]sample,
) PartitionLag {
	st := c.state
	i := p*st.window + st.slot(st.cycle)
	end, start := ts.ends[i], ts.starts[i]
	pl := PartitionLag{Partition: int32(p), Committed: committed, End: end, LagSeconds: Seconds(math.NaN())}
	if end == noSample {
		pl.End = -1
	} else {
		pl.LagRecords = offsetLag(committed, start, end)
		pl.LagSeconds = Seconds(timeLag(ts.tables[p], committed, start, pl.LagRecords, cy.at))
	}
	pl.Owned = owns(info, topic, int32(p))
	*buf = st.windowOf(*buf, gt, ts, p)
	pl.Status = partitionStatus(*buf, pl.Owned)
	return pl
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
