package lag

import (
	"fmt"
	"math"
	"sort"
	"strconv"
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
		gl.breach = st.breach(gs, gl.LagSeconds.Known() && float64(gl.LagSeconds) > c.cfg.LagObjective)
		gl.BreachSeconds = gl.breach.at(cy.at.UnixNano())
		gs.last, gs.lastAt = &gl, cy.at.UnixNano()
		out = append(out, gl)
	}
	return out
}

// staleGroup is the view of a group whose offsets were not fetched.
func (c *Collector) staleGroup(g string, info *groupInfo, gs *groupState, fetchErr error) GroupLag {
	gl := GroupLag{Group: g, LagSeconds: Seconds(math.NaN()), lagClk: unknownClock, ttlClk: anchors{ttl: ttlFixed}}
	if gs != nil && gs.last != nil {
		gl = *gs.last
		if gl.frozen == 0 {
			gl.frozen = gs.lastAt // its figures stay those of the cycle that built it
		}
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
		gl.why = whyClock{pre: gl.Why}
	}
	return gl
}

// groupAcc accumulates a group's partition results while its topics are
// built.
type groupAcc struct {
	counts   statusCounts
	total    int
	complete int
	examples map[string]whyClock // the first example of each non-OK reason (see example)
	turn     int                 // WARN partitions waiting their turn (the rest fall behind)
	maxLag   *MaxLag
	allowed  int64
	progress map[int]int32 // last cycle each owner (member index; -1 any member) moved an offset forward
}

// buildGroup computes lag, time lag and status of one group, as of at (the
// start of the state's last cycle); with partitions, it keeps the
// per-partition detail.
func (c *Collector) buildGroup(at time.Time, g string, info *groupInfo, gs *groupState, partitions bool) GroupLag {
	st := c.state
	gl := GroupLag{Group: g, Protocol: info.protocol, State: info.state, Members: info.members,
		LagSeconds: Seconds(math.NaN()), AllowedLag: gs.allowed, DrainSeconds: 0, TimeToLoss: Seconds(math.NaN()),
		lagClk: unknownClock, ttlClk: unknownClock}
	if info.err != nil {
		gl.Error = info.err.Error()
	}
	acc := groupAcc{examples: map[string]whyClock{}, allowed: gs.allowed}
	topics := make([]string, 0, len(gs.topics))
	for t, gt := range gs.topics {
		if gt.lastCycle == st.cycle {
			topics = append(topics, t)
		}
	}
	sort.Strings(topics)
	acc.progress = c.ownerProgress(info, gs, topics)
	for _, t := range topics {
		tl, n := c.buildTopic(at, info, t, gs.topics[t], st.topics[t], &acc, partitions)
		if n == 0 {
			continue
		}
		gl.add(&tl)
		gl.Topics = append(gl.Topics, tl)
	}
	gl.Status, gl.Cause = acc.counts.groupStatus()
	gl.why = why(gl.Status, gl.Cause, &acc.counts, acc.turn, acc.total, min(int(st.cycle), st.window), acc.example(gl.Cause))
	gl.Why = gl.why.at(at.UnixNano())
	gl.MaxLag = acc.maxLag
	if acc.total > 0 {
		gl.CompleteFraction = float64(acc.complete) / float64(acc.total)
		gl.Complete = acc.complete == acc.total
	}
	return gl
}

// add folds one topic's figures into the group's.
func (gl *GroupLag) add(tl *TopicLag) {
	gl.LagRecords += tl.LagRecords
	if longer(tl.LagSeconds, gl.LagSeconds) {
		gl.LagSeconds, gl.lagClk = tl.LagSeconds, tl.lagClk
	}
	gl.UnknownPartitions += tl.UnknownPartitions
	gl.LostRecords += tl.LostRecords
	if sooner(tl.TimeToLoss, gl.TimeToLoss) {
		gl.TimeToLoss, gl.ttlClk = tl.TimeToLoss, tl.ttlClk
	}
	if tl.LagRecords > 0 {
		gl.DrainSeconds = maxDrain(gl.DrainSeconds, tl.DrainSeconds)
	}
}

// ownerProgress returns, per owner of the group's partitions (a member's
// index, or -1 for "any member" when assignments cannot be decoded), the
// last cycle it moved a committed offset forward on any partition.
func (c *Collector) ownerProgress(info *groupInfo, gs *groupState, topics []string) map[int]int32 {
	out := map[int]int32{}
	for _, t := range topics {
		gt := gs.topics[t]
		for p := range gt.parts {
			w := &gt.parts[p]
			if w.moved == 0 {
				continue
			}
			if o := info.ownerOf(t, int32(p)); o != noOwner && w.moved > out[o] {
				out[o] = w.moved
			}
		}
	}
	return out
}

// buildTopic computes a group's lag on one topic, partition by partition.
func (c *Collector) buildTopic(at time.Time, info *groupInfo, topic string, gt *groupTopicState, ts *topicState,
	acc *groupAcc, partitions bool,
) (tl TopicLag, n int) {
	st := c.state
	tl = TopicLag{Topic: topic, LagSeconds: Seconds(math.NaN()), ConsumeRate: Rate(math.NaN()), ProduceRate: Rate(math.NaN()),
		DrainSeconds: Seconds(math.NaN()), TimeToLoss: Seconds(math.NaN()), LostRecords: gt.lost,
		lagClk: unknownClock, ttlClk: unknownClock}
	if ts == nil {
		return tl, 0
	}
	if partitions {
		tl.Partitions = make([]PartitionLag, 0, seenNow(gt, st.cycle))
	}
	var find findings
	full := int32(st.cycle) - int32(st.window) + 1
	for p := range min(ts.partitions, len(gt.parts)) {
		w := &gt.parts[p]
		if int64(w.seen) != st.cycle {
			continue
		}
		pl, rates := c.buildPartition(at, info, topic, p, w, ts, acc)
		n++
		acc.count(topic, &pl, rates, w.first <= full)
		tl.addPartition(&pl, rates)
		find.add(&pl)
		if partitions {
			tl.Partitions = append(tl.Partitions, pl)
		}
	}
	tl.Committed = n
	if n > 0 && tl.UnknownPartitions == n {
		tl.Status = StatusUnknown
	}
	tl.Findings = find.list()
	tl.DrainSeconds = drain(tl.LagRecords, tl.ConsumeRate, tl.ProduceRate)
	return tl, n
}

// partRates are a partition's consumption and production rates over the
// window (records per second); ok false when unknown.
type partRates struct {
	consumed, produced float64
	ok                 bool
}

// addPartition folds one partition into the topic's figures.
func (tl *TopicLag) addPartition(pl *PartitionLag, r partRates) {
	if !pl.LagKnown {
		tl.UnknownPartitions++
	}
	tl.LagRecords += pl.LagRecords
	if longer(pl.LagSeconds, tl.LagSeconds) {
		tl.LagSeconds, tl.LagSecondsSource, tl.lagClk = pl.LagSeconds, pl.LagSecondsSource, pl.clk
	}
	switch pl.LagSecondsSource {
	case SourceExact:
		tl.ExactPartitions++
	case SourceEstimated:
		tl.EstimatedPartitions++
	}
	tl.Status = worse(tl.Status, pl.Status)
	if sooner(pl.TimeToLoss, tl.TimeToLoss) {
		tl.TimeToLoss, tl.ttlClk = pl.TimeToLoss, pl.clk
	}
	if r.ok {
		tl.ConsumeRate = Rate(nanZero(float64(tl.ConsumeRate)) + r.consumed)
		tl.ProduceRate = Rate(nanZero(float64(tl.ProduceRate)) + r.produced)
	}
}

// drain is the time to read lag records at the given rates: 0 without lag,
// NaN (null) when the group does not consume faster than records arrive.
func drain(lag int64, consumed, produced Rate) Seconds {
	switch {
	case lag == 0:
		return 0
	case !consumed.Known() || !produced.Known() || consumed <= produced:
		return Seconds(math.NaN())
	}
	return Seconds(float64(lag) / float64(consumed-produced))
}

// count adds one partition's result to the group's tallies: its status,
// the first example of each finding, the partition with the largest lag,
// and whether its window is complete (sampled over the whole window, with
// a known lag now).
func (a *groupAcc) count(topic string, pl *PartitionLag, r partRates, fullWindow bool) {
	a.total++
	a.counts[pl.Status]++
	if pl.Reason == ReasonWaitingTurn {
		a.turn++
	}
	if fullWindow && pl.LagKnown {
		a.complete++
	}
	if _, ok := a.examples[pl.Reason]; !ok && pl.Status != StatusOK && pl.Status != StatusUnknown {
		ex := evidenceText(pl, r)
		ex.pre = fmt.Sprintf("%s/%d lag %d", topic, pl.Partition, pl.LagRecords) + ex.pre
		a.examples[pl.Reason] = ex
	}
	if pl.LagKnown && (a.maxLag == nil || pl.LagRecords > a.maxLag.LagRecords) {
		a.maxLag = &MaxLag{Topic: topic, PartitionLag: *pl}
	}
}

// example is the example partition that explains a group's cause: for
// WARN one falling behind when there is one (the sentence leads with
// them), else one waiting its turn.
func (a *groupAcc) example(cause Status) *whyClock {
	reasons := map[Status][]string{StatusWarn: {ReasonFallingBehind, ReasonWaitingTurn}, StatusStop: {ReasonStopped},
		StatusStall: {ReasonStalled}, StatusRewind: {ReasonRewound}}
	for _, r := range reasons[cause] {
		if ex, ok := a.examples[r]; ok {
			return &ex
		}
	}
	return nil
}

// evidenceText is what shows a partition's reason, in words that agree
// with it: a consumer falling behind advances, slower than records
// arrive; one waiting its turn or stopped has not moved for a while. Its
// duration is the partition's clock's (whyClock).
func evidenceText(pl *PartitionLag, r partRates) whyClock {
	switch pl.Reason {
	case ReasonFallingBehind:
		s := ""
		if r.ok {
			s = fmt.Sprintf(", consuming %s records/s while %s arrive", rate(r.consumed), rate(r.produced))
		}
		if pl.LagSeconds.Known() {
			return whyClock{pre: s + ", oldest unread record ", hole: whyLag, c: pl.clk, post: " old"}
		}
		return whyClock{pre: s}
	case ReasonWaitingTurn:
		return whyClock{pre: ", not moved for ", hole: whyWaiting, c: pl.clk, post: " while its member advances other partitions"}
	case ReasonStopped, ReasonStalled:
		return whyClock{pre: ", waiting ", hole: whyWaiting, c: pl.clk, post: " without progress"}
	}
	return whyClock{}
}

// rate formats records per second with two significant decimals at most.
func rate(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// roundSeconds formats seconds as a duration to a tenth of a second.
func roundSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}

func (c *Collector) buildPartition(at time.Time, info *groupInfo, topic string, p int, w *partWindow, ts *topicState,
	acc *groupAcc,
) (PartitionLag, partRates) {
	st := c.state
	start, end := st.current(ts, p)
	pl := PartitionLag{Partition: int32(p), Committed: w.committed, End: end, Start: start,
		LagSeconds: Seconds(math.NaN()), TimeToLoss: Seconds(math.NaN())}
	if start < 0 {
		pl.Start = -1
	}
	now := at.UnixNano()
	pl.clk = unknownClock
	if end == noSample {
		pl.End = -1
	} else {
		pl.LagKnown = true
		pl.LagRecords = w.lag
		pl.LagSecondsSource = c.partitionTimeLag(ts, p, w.committed, start, w.lag, &pl.clk)
		pl.LagSeconds = pl.clk.lagAt(now)
	}
	if last := w.lastChange(); last > 0 && int64(last) > st.cycle-cycleTimes {
		pl.LastCommit = time.Unix(0, st.timeAt(last)).UTC()
	}
	owner := info.ownerOf(topic, int32(p))
	pl.Owned = owner != noOwner
	e := evidence{at: st.timeAt, cycle: int32(st.cycle), window: int32(st.window), lagKnown: pl.LagKnown, owned: pl.Owned,
		allowed: acc.allowed, stopAfter: int64(c.cfg.StopAfter), waited: -1, ownerMoved: acc.progress[owner],
		endThen: st.endAt(ts, p, int64(w.a0)), end: end}
	if pl.LagSeconds.Known() {
		e.waited = int64(float64(pl.LagSeconds) * 1e9)
	}
	w.waitClock(&e, &pl.clk)
	pl.Status, pl.Reason = w.status(&e)
	pl.WaitingSeconds = pl.clk.waitingSecondsAt(now)
	var r partRates
	r.consumed, r.produced, r.ok = w.rates(&e)
	c.timeToLoss(ts, p, &pl, r)
	pl.TimeToLoss = pl.clk.ttlAt(now)
	return pl, r
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

// Sources of a time lag (PartitionLag.LagSecondsSource).
const (
	SourceExact     = "exact"     // now minus the timestamp of the record at the committed offset
	SourceEstimated = "estimated" // interpolated from the sampled end offsets (docs/lag.md, "Fallback")
)

// partitionTimeLag sets the lag of the partition's anchors and returns how
// its time lag is measured: 0 without offset lag; else now minus the
// timestamp of the first unconsumed record (the record at the committed
// offset, or at the start offset when the committed one was deleted) when
// that record's timestamp is known, and the offset-table estimate
// otherwise.
func (c *Collector) partitionTimeLag(ts *topicState, p int, committed, start, lag int64, clk *anchors) string {
	if lag == 0 {
		clk.lag, clk.fixed = lagFixed, 0
		return ""
	}
	if start >= 0 && committed < start {
		committed = start
	}
	if ms, ok := ts.stampOf(p, committed, c.state.cycle); ok {
		clk.lag, clk.at = lagExact, ms
		return SourceExact
	}
	ts.tables[p].lagClock(committed, clk)
	if clk.lag == lagFixed && math.IsNaN(clk.fixed) {
		return ""
	}
	return SourceEstimated
}

// sooner reports whether b is a known time shorter than a (or a is
// unknown): the shorter known of the two is b.
func sooner(b, a Seconds) bool { return b.Known() && (!a.Known() || b < a) }

// longer reports whether b is a known time longer than a (or a is
// unknown): the longer known of the two is b.
func longer(b, a Seconds) bool { return b.Known() && (!a.Known() || b > a) }

// maxDrain is the longer of two drain times; unknown (not draining) wins.
func maxDrain(a, b Seconds) Seconds {
	if !a.Known() || !b.Known() {
		return Seconds(math.NaN())
	}
	return Seconds(math.Max(float64(a), float64(b)))
}

func nanZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
