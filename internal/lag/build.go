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

// groupAcc accumulates a group's partition results while its topics are
// built.
type groupAcc struct {
	counts   statusCounts
	total    int
	complete int
	examples map[Status]string
	maxLag   *MaxLag
	allowed  int64
}

// buildGroup computes lag, time lag and status of one group, as of at (the
// start of the state's last cycle); with partitions, it keeps the
// per-partition detail.
func (c *Collector) buildGroup(at time.Time, g string, info *groupInfo, gs *groupState, partitions bool) GroupLag {
	st := c.state
	gl := GroupLag{Group: g, Protocol: info.protocol, State: info.state, Members: info.members,
		LagSeconds: Seconds(math.NaN()), AllowedLag: gs.allowed}
	if info.err != nil {
		gl.Error = info.err.Error()
	}
	acc := groupAcc{examples: map[Status]string{}, allowed: gs.allowed}
	topics := make([]string, 0, len(gs.topics))
	for t, gt := range gs.topics {
		if gt.lastCycle == st.cycle {
			topics = append(topics, t)
		}
	}
	sort.Strings(topics)
	for _, t := range topics {
		tl, n := c.buildTopic(at, info, t, gs.topics[t], st.topics[t], &acc, partitions)
		if n == 0 {
			continue
		}
		gl.LagRecords += tl.LagRecords
		gl.LagSeconds = maxSeconds(gl.LagSeconds, tl.LagSeconds)
		gl.UnknownPartitions += tl.UnknownPartitions
		gl.Topics = append(gl.Topics, tl)
	}
	gl.Status, gl.Cause = acc.counts.groupStatus()
	gl.Why = why(gl.Status, gl.Cause, &acc.counts, acc.total, min(int(st.cycle), st.window), acc.examples[gl.Cause])
	gl.MaxLag = acc.maxLag
	if acc.total > 0 {
		gl.CompleteFraction = float64(acc.complete) / float64(acc.total)
		gl.Complete = acc.complete == acc.total
	}
	return gl
}

// buildTopic computes a group's lag on one topic, partition by partition.
func (c *Collector) buildTopic(at time.Time, info *groupInfo, topic string, gt *groupTopicState, ts *topicState,
	acc *groupAcc, partitions bool,
) (tl TopicLag, n int) {
	st := c.state
	tl = TopicLag{Topic: topic, LagSeconds: Seconds(math.NaN())}
	if ts == nil {
		return tl, 0
	}
	if partitions {
		tl.Partitions = make([]PartitionLag, 0, seenNow(gt, st.cycle))
	}
	full := int32(st.cycle) - int32(st.window) + 1
	for p := range min(ts.partitions, len(gt.parts)) {
		w := &gt.parts[p]
		if int64(w.seen) != st.cycle {
			continue
		}
		pl := c.buildPartition(at, info, topic, p, w, ts, acc.allowed)
		n++
		acc.count(topic, &pl, w.first <= full)
		if !pl.LagKnown {
			tl.UnknownPartitions++
		}
		tl.LagRecords += pl.LagRecords
		tl.LagSeconds = maxSeconds(tl.LagSeconds, pl.LagSeconds)
		tl.Status = worse(tl.Status, pl.Status)
		if partitions {
			tl.Partitions = append(tl.Partitions, pl)
		}
	}
	tl.Committed = n
	if n > 0 && tl.UnknownPartitions == n {
		tl.Status = StatusUnknown
	}
	return tl, n
}

// count adds one partition's result to the group's tallies: its status,
// the first example of each finding, the partition with the largest lag,
// and whether its window is complete (sampled over the whole window, with
// a known lag now).
func (a *groupAcc) count(topic string, pl *PartitionLag, fullWindow bool) {
	a.total++
	a.counts[pl.Status]++
	if fullWindow && pl.LagKnown {
		a.complete++
	}
	if _, ok := a.examples[pl.Status]; !ok && pl.Status != StatusOK && pl.Status != StatusUnknown {
		a.examples[pl.Status] = fmt.Sprintf("%s/%d lag %d", topic, pl.Partition, pl.LagRecords)
	}
	if pl.LagKnown && (a.maxLag == nil || pl.LagRecords > a.maxLag.LagRecords) {
		a.maxLag = &MaxLag{Topic: topic, PartitionLag: *pl}
	}
}

func (c *Collector) buildPartition(at time.Time, info *groupInfo, topic string, p int, w *partWindow, ts *topicState, allowed int64) PartitionLag {
	st := c.state
	start, end := st.current(ts, p)
	pl := PartitionLag{Partition: int32(p), Committed: w.committed, End: end, LagSeconds: Seconds(math.NaN())}
	if end == noSample {
		pl.End = -1
	} else {
		pl.LagKnown = true
		pl.LagRecords = w.lag
		pl.LagSeconds = Seconds(timeLag(ts.tables[p], w.committed, start, w.lag, at))
	}
	if last := w.lastChange(); last > 0 && int64(last) > st.cycle-cycleTimes {
		pl.LastCommit = time.Unix(0, st.timeAt(last)).UTC()
	}
	pl.Owned = owns(info, topic, int32(p))
	pl.Status = w.status(st.timeAt, int32(st.cycle), int32(st.window), pl.Owned, pl.LagKnown, allowed)
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

func maxSeconds(a, b Seconds) Seconds {
	switch {
	case !b.Known():
		return a
	case !a.Known():
		return b
	}
	return Seconds(math.Max(float64(a), float64(b)))
}
