package lag

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
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

// positionSeen is when a sampler partition's stored position last moved.
type positionSeen struct {
	at    int64     // the position
	since time.Time // when it was first seen at that position
}

// collectCoverage describes the sampler group and fetches its commits
// (which are the report store's positions: the sampler commits only what is
// stored), then compares them with the sampled topics' partitions and end
// offsets. nil when Expectations name no sampler group.
func (c *Collector) collectCoverage(ctx context.Context, cy *cycle) *Coverage {
	group := c.exp.SamplerGroup
	if group == "" || !cy.metaOK {
		return nil
	}
	cov := &Coverage{Group: group}
	owned, members, known := c.samplerOwned(ctx, cy, group)
	cov.Known, cov.Members = known, members
	commits := c.samplerCommits(ctx, cy, group)
	for _, t := range cy.meta.Topics.Sorted() {
		if t.Err != nil || (c.exp.SampledTopic != nil && !c.exp.SampledTopic(t.Topic)) || t.IsInternal {
			continue
		}
		ct := CoverageTopic{Topic: t.Topic, Partitions: len(t.Partitions)}
		for p := range t.Partitions {
			unowned := known && !owned.Lookup(t.Topic, p)
			stalled := c.positionStalled(cy, commits, t.Topic, p, &ct.LagRecords)
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

// positionStalled adds the partition's position lag to lag and reports
// whether its stored position (the sampler group's commit) has stayed put
// for lag.sampling_stall_after while it was behind the end offset: the
// member assigned it is not auditing (killed, its session not yet
// expired, or stuck). c.mu held (cycles are serial).
func (c *Collector) positionStalled(cy *cycle, commits kadm.OffsetResponses, topic string, p int32, lag *int64) bool {
	end, ok := cy.ends.Lookup(topic, p)
	if !ok || end.Err != nil {
		return false
	}
	at := int64(-1)
	if o, has := commits.Lookup(topic, p); has && o.Err == nil {
		at = o.At
	}
	if at >= 0 {
		*lag += max(end.Offset-at, 0)
	}
	k := tpKey{topic, p}
	seen, had := c.positions[k]
	if !had || seen.at != at {
		c.positions[k] = positionSeen{at: at, since: cy.at}
		return false
	}
	if start, ok := cy.starts.Lookup(topic, p); at < 0 && ok && start.Err == nil && end.Offset <= start.Offset {
		return false // empty partition, never committed: nothing to audit
	}
	return end.Offset > at && cy.at.Sub(seen.since) >= c.cfg.SamplingStall
}

// tpKey names a partition.
type tpKey struct {
	topic string
	p     int32
}

// samplerOwned returns the partitions the sampler group's members are
// assigned; known is false when the group could not be described or its
// assignment is by topic id only.
func (c *Collector) samplerOwned(ctx context.Context, cy *cycle, group string) (kadm.TopicsSet, int, bool) {
	described, err := c.adm.DescribeGroups(ctx, group)
	if err != nil {
		c.fail(cy, "describe_groups", fmt.Errorf("describe sampler group %q: %w", group, err))
		return nil, 0, false
	}
	d, ok := described[group]
	if !ok || d.Err != nil {
		return nil, 0, false
	}
	owned := d.AssignedPartitions()
	if _, unnamed := owned[""]; unnamed {
		return nil, len(d.Members), false
	}
	return owned, len(d.Members), true
}

// samplerCommits fetches the sampler group's committed offsets. Before
// the sampler's first commit (a fresh data directory) real Kafka answers
// OffsetFetch with GROUP_ID_NOT_FOUND: that is a group without commits
// (every partition unpositioned, which the stall check still judges), not
// an admin error, so it is neither logged nor counted.
func (c *Collector) samplerCommits(ctx context.Context, cy *cycle, group string) kadm.OffsetResponses {
	offs, err := c.adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil
	}
	if err != nil {
		c.fail(cy, "offset_fetch", fmt.Errorf("fetch offsets of sampler group %q: %w", group, err))
		return nil
	}
	return offs
}
