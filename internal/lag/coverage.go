package lag

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Coverage is how completely eventwatch's own sampler group reads the
// sampled topics, from the admin API (the group's description and commits,
// the topics' end offsets), not from any member's view of itself: a replica
// that is gone, or a partition nobody was assigned, shows here.
type Coverage struct {
	Group      string          `json:"group"`                // the sampler's consumer group
	Known      bool            `json:"known"`                // the group's assignment could be read this cycle
	Members    int             `json:"members"`              // members of the sampler group
	Partitions int             `json:"partitions"`           // partitions of sampled topics
	Unowned    int             `json:"unowned_partitions"`   // partitions no member is assigned
	Stalled    int             `json:"stalled_partitions"`   // assigned, but the stored position has not moved for lag.sampling_stall_after while records arrived
	Unaudited  int             `json:"unaudited_partitions"` // Unowned + Stalled: not audited now
	LagRecords int64           `json:"position_lag_records"` // records between the stored (committed) positions and the end offsets
	Topics     []CoverageTopic `json:"topics"`               // per sampled topic, sorted by name
}

// CoverageTopic is Coverage for one topic.
type CoverageTopic struct {
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	Unowned    int    `json:"unowned_partitions"`
	Stalled    int    `json:"stalled_partitions"`
	Unaudited  int    `json:"unaudited_partitions"`
	LagRecords int64  `json:"position_lag_records"`
}

// collectCoverage describes the sampler group and fetches its commits
// (which are the report store's positions: the sampler commits only what is
// stored), then compares them with the sampled topics' partitions and this
// cycle's start and end offsets, read from the state (recordTopics has
// written them: one slice index per partition, not two map lookups). nil
// when Expectations name no sampler group.
func (c *Collector) collectCoverage(ctx context.Context, cy *cycle) *Coverage {
	group := c.exp.SamplerGroup
	if group == "" || !cy.metaOK {
		return nil
	}
	cov := &Coverage{Group: group}
	owned, members, known := c.samplerOwned(ctx, cy, group)
	cov.Known, cov.Members = known, members
	sampled := func(topic string) bool { return c.exp.SampledTopic == nil || c.exp.SampledTopic(topic) }
	commits := c.samplerCommits(ctx, cy, group, sampled)
	for _, t := range cy.meta.Topics.Sorted() {
		if t.Err != nil || !sampled(t.Topic) || t.IsInternal {
			continue
		}
		ct := CoverageTopic{Topic: t.Topic, Partitions: len(t.Partitions)}
		pt := c.positionTopic(cy, commits, t.Topic, len(t.Partitions))
		mine := owned[t.Topic]
		for p := range t.Partitions {
			unowned := known && (int(p) >= len(mine) || !mine[p])
			stalled := pt.stalled(p, &ct.LagRecords)
			switch {
			case unowned:
				ct.Unowned++
			case stalled:
				ct.Stalled++
			}
		}
		ct.Unaudited = ct.Unowned + ct.Stalled
		cov.Partitions += ct.Partitions
		cov.Unowned += ct.Unowned
		cov.Stalled += ct.Stalled
		cov.Unaudited += ct.Unaudited
		cov.LagRecords += ct.LagRecords
		cov.Topics = append(cov.Topics, ct)
	}
	sort.Slice(cov.Topics, func(i, j int) bool { return cov.Topics[i].Topic < cov.Topics[j].Topic })
	return cov
}

// positionTopic is one topic's inputs to the stall check, looked up once
// for all its partitions (10,000 partitions a cycle at estate size).
type positionTopic struct {
	c             *Collector
	at            time.Time
	ts            *topicState // this cycle's offsets (state.current); nil: the topic was not listed
	commits, seen []int64     // the sampler's positions (-1: none); seen is c.positions' row
	since         []time.Time
}

// positionTopic returns topic's row of the sampler's positions, grown to
// n partitions.
func (c *Collector) positionTopic(cy *cycle, commits groupCommits, topic string, n int) *positionTopic {
	row := c.positions[topic]
	if row == nil || len(row.at) < n {
		grown := &positionRow{at: fill(make([]int64, n), unseenPosition), since: make([]time.Time, n)}
		if row != nil {
			copy(grown.at, row.at)
			copy(grown.since, row.since)
		}
		row = grown
		c.positions[topic] = row
	}
	ts := c.state.topics[topic]
	if ts != nil && ts.lastCycle != c.state.cycle {
		ts = nil // not listed this cycle
	}
	return &positionTopic{c: c, at: cy.at, ts: ts, commits: commits[topic], seen: row.at, since: row.since}
}

// stalled adds partition p's position lag to lag and reports whether its
// stored position (the sampler group's commit) has stayed put for
// lag.sampling_stall_after while it was behind the end offset: the member
// assigned it is not auditing (killed, its session not yet expired, or
// stuck). c.mu held (cycles are serial).
func (pt *positionTopic) stalled(p int32, lag *int64) bool {
	if pt.ts == nil || int(p) >= pt.ts.partitions {
		return false
	}
	st := pt.c.state
	start, end := st.current(pt.ts, int(p))
	if end == noSample {
		return false
	}
	at := int64(-1)
	if int(p) < len(pt.commits) {
		at = pt.commits[p]
	}
	if at >= 0 {
		*lag += max(end-at, 0)
	}
	if pt.seen[p] != at {
		pt.seen[p], pt.since[p] = at, pt.at
		return false
	}
	if at < 0 && start != noSample && end <= start {
		return false // empty partition, never committed: nothing to audit
	}
	return end > at && pt.at.Sub(pt.since[p]) >= pt.c.cfg.SamplingStall
}

// positionRow is when each partition of a topic last moved its sampler
// position: at is the position (unseenPosition before the first cycle
// that saw the partition), since when it was first seen there.
type positionRow struct {
	at    []int64
	since []time.Time
}

// unseenPosition marks a partition no cycle has seen a position of yet
// (-1 is a real answer: no commit).
const unseenPosition = -2

// samplerOwned returns, per topic, which partitions the sampler group's
// members are assigned (indexed by partition); known is false when the
// group could not be described or its assignment is by topic id only.
// A classic sampler group the cycle's lag pass described (it watches
// every group by default) is read from that description; any other is
// described again.
func (c *Collector) samplerOwned(ctx context.Context, cy *cycle, group string) (map[string][]bool, int, bool) {
	if g := cy.groups[group]; g != nil && g.protocol == ProtocolClassic && !errors.Is(g.err, errNotDescribed) {
		if g.err != nil {
			return nil, 0, false
		}
		return ownedRows(g.assign, g.members)
	}
	described, err := c.adm.DescribeGroups(ctx, group)
	if err != nil {
		c.fail(cy, "describe_groups", fmt.Errorf("describe sampler group %q: %w", group, err))
		return nil, 0, false
	}
	d, ok := described[group]
	if !ok || d.Err != nil {
		return nil, 0, false
	}
	return ownedRows(classicAssignments(d), len(d.Members))
}

// ownedRows turns a group's assignments (topic → partition → member) into
// rows indexed by partition; false when an assignment names its topic by
// id only (kfake).
func ownedRows(assign map[string]map[int32]int, members int) (map[string][]bool, int, bool) {
	owned := make(map[string][]bool, len(assign))
	for topic, parts := range assign {
		if topic == "" {
			return nil, members, false // by topic id only (kfake)
		}
		var row []bool
		for p := range parts {
			if p < 0 {
				continue
			}
			if int(p) >= len(row) {
				row = append(row, make([]bool, int(p)+1-len(row))...)
			}
			row[p] = true
		}
		owned[topic] = row
	}
	return owned, members, true
}

// samplerCommits is the sampler group's committed offsets: the lag pass's
// when it fetched them for every sampled topic (it watches every group
// and topic by default: one OffsetFetch of 10,000 partitions a cycle
// fewer at estate size), else fetched here. Before
// the sampler's first commit (a fresh data directory) real Kafka answers
// OffsetFetch with GROUP_ID_NOT_FOUND: that is a group without commits
// (every partition unpositioned, which the stall check still judges), not
// an admin error, so it is neither logged nor counted.
func (c *Collector) samplerCommits(ctx context.Context, cy *cycle, group string, sampled func(string) bool) groupCommits {
	if commits, ok := cy.commits[group]; ok && c.watchesSampled(cy, sampled) {
		return commits // the lag pass fetched them, for every sampled topic
	}
	fg, ok := c.fetchCommits(ctx, []string{group}, anyTopic)[group]
	err := fg.err
	if !ok {
		err = errNoAnswer
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil
	}
	if err != nil {
		c.fail(cy, "offset_fetch", fmt.Errorf("fetch offsets of sampler group %q: %w", group, err))
		return nil
	}
	return fg.commits
}

// watchesSampled reports whether the lag pass kept the commits of every
// topic the coverage reads (lag.topics_include/exclude let each sampled
// topic through), so that the sampler group's commits it fetched serve
// the coverage too.
func (c *Collector) watchesSampled(cy *cycle, sampled func(string) bool) bool {
	for name, t := range cy.meta.Topics {
		if t.Err == nil && !t.IsInternal && sampled(name) && !c.cfg.wantTopic(name) {
			return false
		}
	}
	return true
}
