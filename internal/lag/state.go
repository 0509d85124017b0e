package lag

import "time"

// noSample marks a ring slot with no observation for its cycle.
const noSample = -2

// cycleTimes is how many cycle start times the state remembers (17 hours at
// the default interval), for the commit-recency rule.
const cycleTimes = 4096

// state is the collector's memory across cycles, owned by the goroutine
// running the cycles. Windows are rings indexed by cycle number modulo the
// window size, so a group partition costs one int64 per window slot: end and
// start offsets are kept once per topic partition and shared by every group.
type state struct {
	window int
	table  int
	cycle  int64   // last cycle number written
	times  []int64 // start of the last cycleTimes cycles, unix nanoseconds, by cycle % cycleTimes
	topics map[string]*topicState
	groups map[string]*groupState
}

func newState(window, table int) *state {
	return &state{
		window: window, table: table,
		times:  make([]int64, cycleTimes),
		topics: map[string]*topicState{},
		groups: map[string]*groupState{},
	}
}

// topicState holds a topic's per-partition offset tables and the rings of
// its start and end offsets.
type topicState struct {
	tables    []*offsetTable
	starts    []int64 // partition*window + slot
	ends      []int64
	lastCycle int64
	retention float64 // seconds; -1 infinite; 0 unknown
	compacted bool
	deletes   bool // cleanup.policy includes delete (or is unknown): retention deletes records
	// retentionBytes is retention.bytes (per partition), -1 or 0 when
	// unlimited or unknown; sizes the partitions' sizes in bytes when it is
	// set (DescribeLogDirs), for time to loss.
	retentionBytes int64
	sizes          []int64
	// stamps are the timestamps of records at offsets groups have
	// committed, per partition: the exact time lag's cache.
	stamps []stampSet
	// retentionMS and cleanup are the raw retention.ms and cleanup.policy
	// ("" when unknown), for Snapshot.Topics.
	retentionMS string
	cleanup     string
	replicas    int
	partitions  int
}

// groupState holds a group's window summaries per topic.
type groupState struct {
	topics    map[string]*groupTopicState
	lastCycle int64
	last      *GroupLag   // last published view, reused when a fetch fails
	lastAt    int64       // when last was built (unix ns): a stale group's figures stay those of then
	info      *groupInfo  // what the last describe said, for GroupDetail
	breach    breachClock // time above the lag objective so far
	lastAbove int64       // the last cycle (its start, unix ns) the group was above the objective
	allowed   int64       // the group's allowed lag (lag.allowed_lag or a lag.allowed_lag_groups rule)
}

// groupTopicState holds one window summary per partition of a topic.
type groupTopicState struct {
	parts     []partWindow
	lastCycle int64
	lost      int64 // records deleted before the group read them, since eventwatch started (each lost range once)
}

// begin starts cycle n at time at.
func (s *state) begin(at time.Time) int64 {
	s.cycle++
	s.times[s.cycle%cycleTimes] = at.UnixNano()
	return s.cycle
}

// breach advances gs's time above the lag objective by this cycle, which
// found the group above it or not: every cycle above it adds the time
// since the previous cycle (none for the first). A run of cycles above
// it is one anchor (breachClock.since, the cycle before the run), so the
// figure is a function of the time it is read at.
func (s *state) breach(gs *groupState, above bool) breachClock {
	now, prev := s.timeAt(int32(s.cycle)), s.timeAt(int32(s.cycle-1))
	if s.cycle < 2 {
		prev = now
	}
	b := &gs.breach
	switch {
	case above && (b.since == 0 || gs.lastAbove != prev):
		b.base = b.at(gs.lastAbove) // a run broken by a cycle without this group's offsets ends there
		b.since = prev
	case !above && b.since != 0:
		b.base, b.since = b.at(gs.lastAbove), 0
	}
	if above {
		gs.lastAbove = now
	}
	return *b
}

// timeAt returns the start of a cycle (unix nanoseconds); for a cycle older
// than the state remembers, the start of the oldest one it does.
func (s *state) timeAt(cycle int32) int64 {
	c := max(int64(cycle), s.cycle-cycleTimes+1, 1)
	return s.times[c%cycleTimes]
}

func (s *state) slot(cycle int64) int { return int(cycle % int64(s.window)) }

// topic returns the state of topic sized for parts partitions.
func (s *state) topic(name string, parts int) *topicState {
	ts := s.topics[name]
	if ts == nil || ts.partitions != parts {
		ts = s.resizeTopic(ts, parts)
		s.topics[name] = ts
	}
	return ts
}

func (s *state) resizeTopic(old *topicState, parts int) *topicState {
	ts := &topicState{partitions: parts, tables: make([]*offsetTable, parts), stamps: make([]stampSet, parts)}
	ts.starts = fill(make([]int64, parts*s.window), noSample)
	ts.ends = fill(make([]int64, parts*s.window), noSample)
	for p := range ts.tables {
		if old != nil && p < old.partitions {
			ts.tables[p] = old.tables[p]
			ts.stamps[p] = old.stamps[p]
			copy(ts.starts[p*s.window:(p+1)*s.window], old.starts[p*s.window:])
			copy(ts.ends[p*s.window:(p+1)*s.window], old.ends[p*s.window:])
			continue
		}
		ts.tables[p] = newOffsetTable(s.table)
	}
	if old != nil {
		ts.lastCycle = old.lastCycle
	}
	return ts
}

// clearGap marks the slots of the cycles after last and before now as
// missing in a ring of per-partition windows.
func (s *state) clearGap(ring []int64, last int64) {
	from := max(last+1, s.cycle-int64(s.window)+1)
	for c := from; c < s.cycle; c++ {
		sl := s.slot(c)
		for i := sl; i < len(ring); i += s.window {
			ring[i] = noSample
		}
	}
}

// clearCurrent marks this cycle's slot of every partition of ring missing.
func (s *state) clearCurrent(ring []int64) {
	for i := s.slot(s.cycle); i < len(ring); i += s.window {
		ring[i] = noSample
	}
}

// recordOffsets writes this cycle's start and end offset of partition p.
func (s *state) recordOffsets(ts *topicState, p int, start, end int64, at time.Time) {
	i := p*s.window + s.slot(s.cycle)
	ts.starts[i], ts.ends[i] = start, end
	if end >= 0 {
		ts.tables[p].add(end, at)
	}
}

// beginTopic prepares ts to receive this cycle's offsets.
func (s *state) beginTopic(ts *topicState) {
	s.clearGap(ts.ends, ts.lastCycle)
	s.clearGap(ts.starts, ts.lastCycle)
	s.clearCurrent(ts.ends)
	s.clearCurrent(ts.starts)
	ts.lastCycle = s.cycle
}

// groupTopic returns the window summaries of group on topic, sized for
// parts partitions.
func (s *state) groupTopic(gs *groupState, topic string, parts int) *groupTopicState {
	gt := gs.topics[topic]
	if gt == nil {
		gt = &groupTopicState{}
		gs.topics[topic] = gt
	}
	for len(gt.parts) < parts {
		gt.parts = append(gt.parts, newPartWindow())
	}
	gt.lastCycle = s.cycle
	return gt
}

// current returns this cycle's start and end offsets of partition p
// (noSample when they could not be listed).
func (s *state) current(ts *topicState, p int) (start, end int64) {
	i := p*s.window + s.slot(s.cycle)
	return ts.starts[i], ts.ends[i]
}

// endAt returns the end offset of partition p at cycle, or noSample when
// it was not listed then or cycle is outside the window.
func (s *state) endAt(ts *topicState, p int, cycle int64) int64 {
	if cycle <= 0 || cycle <= s.cycle-int64(s.window) || cycle > s.cycle {
		return noSample
	}
	return ts.ends[p*s.window+s.slot(cycle)]
}

// newRecords returns how many records were appended to ts over the window.
func (s *state) newRecords(ts *topicState) int64 {
	var n int64
	first := max(1, s.cycle-int64(s.window)+1)
	for p := range ts.partitions {
		var lo, hi int64 = noSample, noSample
		for c := first; c <= s.cycle; c++ {
			if e := ts.ends[p*s.window+s.slot(c)]; e >= 0 {
				if lo == noSample {
					lo = e
				}
				hi = e
			}
		}
		if lo >= 0 && hi > lo {
			n += hi - lo
		}
	}
	return n
}

// sweep forgets groups and topics not seen for a whole window.
func (s *state) sweep() {
	old := s.cycle - int64(s.window)
	for name, gs := range s.groups {
		if gs.lastCycle <= old {
			delete(s.groups, name)
		}
	}
	for name, ts := range s.topics {
		if ts.lastCycle <= old {
			delete(s.topics, name)
		}
	}
}

// offsetLag is the records a group must still read on a partition: never
// negative, and measured from the start offset when the committed offset
// points below it (the segments it pointed into were deleted).
func offsetLag(committed, start, end int64) int64 {
	if end < 0 || committed >= end {
		return 0
	}
	if start >= 0 && committed < start {
		return end - start
	}
	return end - committed
}

func fill(s []int64, v int64) []int64 {
	for i := range s {
		s[i] = v
	}
	return s
}
