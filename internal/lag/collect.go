package lag

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"golang.org/x/sync/errgroup"
)

// Protocol values of GroupLag.Protocol.
const (
	ProtocolClassic  = "classic"  // JoinGroup/SyncGroup groups, described with DescribeGroups
	ProtocolConsumer = "consumer" // KIP-848 groups, described with ConsumerGroupDescribe
)

// cycle is what one collection cycle fetched; every request failure is
// recorded and counted, and whatever did succeed is kept.
type cycle struct {
	ctx     context.Context
	at      time.Time
	meta    kadm.Metadata
	metaOK  bool
	starts  kadm.ListedOffsets
	ends    kadm.ListedOffsets
	configs map[string]topicConfig

	mu      sync.Mutex
	groups  map[string]*groupInfo
	commits map[string]groupCommits // committed offsets by group, until folded
	fetched map[string]bool         // groups whose offsets were fetched this cycle
	failed  map[string]error        // groups whose offsets could not be fetched, and why
	errs    []string

	coverage *Coverage // the sampler group's coverage; nil without Expectations.SamplerGroup
}

type topicConfig struct {
	retention   float64 // seconds; -1 infinite; 0 unknown
	bytes       int64   // retention.bytes; -1 unlimited; 0 unknown
	compacted   bool
	deletes     bool   // cleanup.policy includes delete
	retentionMS string // retention.ms as the broker says it; "" when unknown
	cleanup     string // cleanup.policy as the broker says it; "" when unknown
}

// groupInfo is what the describe requests said about a group.
type groupInfo struct {
	protocol string
	state    string
	members  int
	owned    kadm.TopicsSet
	assign   map[string]map[int32]int // topic -> partition -> index of the member assigned it; nil when assignments cannot be decoded
	err      error
}

// fail records a failed admin request of kind req (a label value of
// eventwatch_admin_errors_total) and keeps the cycle going.
func (c *Collector) fail(cy *cycle, req string, err error) {
	if cy.ctx.Err() != nil {
		return // shutting down: not an admin error
	}
	c.adminErrors.WithLabelValues(req).Inc()
	cy.mu.Lock()
	cy.errs = append(cy.errs, fmt.Sprintf("%s: %v", req, err))
	cy.mu.Unlock()
	c.log.Warn("admin request failed", "request", req, "err", err)
}

// fetchAll runs the requests of a cycle: metadata and topic configs, the
// start and end offsets of every topic, and — as soon as the groups are
// listed, without waiting for the rest — the group describes and offset
// fetches.
func (c *Collector) fetchAll(ctx context.Context, cy *cycle) {
	var eg errgroup.Group
	eg.Go(func() error {
		meta, err := c.adm.Metadata(ctx)
		if err != nil {
			c.fail(cy, "metadata", fmt.Errorf("fetch metadata: %w", err))
			return nil
		}
		cy.meta, cy.metaOK = meta, true
		c.listed.Store(listing(meta, cy.at))
		var listing errgroup.Group // the start and end offsets of the partitions the metadata names
		listing.Go(func() error {
			cy.starts = c.listOffsets(ctx, cy, "list_start_offsets", meta, listStart)
			return nil
		})
		listing.Go(func() error {
			cy.ends = c.listOffsets(ctx, cy, "list_end_offsets", meta, listEnd)
			return nil
		})
		cy.configs = c.fetchConfigs(ctx, cy, meta.Topics.Names())
		return listing.Wait()
	})
	eg.Go(func() error {
		classic, consumer := c.listAllGroups(ctx, cy)
		c.fetchGroups(ctx, cy, classic, consumer)
		return nil
	})
	_ = eg.Wait()
}

// Listing is the cluster's topics as one cycle's metadata named them.
type Listing struct {
	At         time.Time      // when the cycle began
	Partitions map[string]int // topic -> partitions, for every topic without a load error, internal ones left out
}

// listing takes the topics of meta.
func listing(meta kadm.Metadata, at time.Time) *Listing {
	l := &Listing{At: at, Partitions: make(map[string]int, len(meta.Topics))}
	for name, t := range meta.Topics {
		if t.Err == nil && !t.IsInternal {
			l.Partitions[name] = len(t.Partitions)
		}
	}
	return l
}

// Listed returns the topics the last cycle's metadata named when that
// cycle began less than maxAge ago; false when there is none. The
// sampler takes its topic listing from here on the leader instead of
// asking Kafka for every partition's metadata once more. The map is
// shared: do not modify it.
func (c *Collector) Listed(maxAge time.Duration) (*Listing, bool) {
	l := c.listed.Load()
	if l == nil || c.now().Sub(l.At) > maxAge {
		return nil, false
	}
	return l, true
}

// listAllGroups lists classic and KIP-848 groups concurrently.
func (c *Collector) listAllGroups(ctx context.Context, cy *cycle) (classic, consumer []string) {
	var eg errgroup.Group
	eg.Go(func() error {
		classic = c.listGroups(ctx, cy, ProtocolClassic)
		return nil
	})
	eg.Go(func() error {
		consumer = c.listGroups(ctx, cy, ProtocolConsumer)
		return nil
	})
	_ = eg.Wait()
	return classic, without(consumer, classic)
}

// without returns the names of s that are not in drop. A broker older than
// 3.8 ignores the type filter of ListGroups and lists every group under
// both types; such groups are classic (and a classic-listed KIP-848 group is
// re-described as one anyway).
func without(s, drop []string) []string {
	skip := make(map[string]bool, len(drop))
	for _, d := range drop {
		skip[d] = true
	}
	out := s[:0:0]
	for _, x := range s {
		if !skip[x] {
			out = append(out, x)
		}
	}
	return out
}

func (c *Collector) listOffsets(ctx context.Context, cy *cycle, req string, meta kadm.Metadata, timestamp int64) kadm.ListedOffsets {
	listed, err := c.listOffsetsOf(ctx, meta, timestamp)
	if err == nil {
		err = listed.Error() // partition-level errors
	}
	if err != nil {
		c.fail(cy, req, fmt.Errorf("list offsets: %w", err))
	}
	return listed
}

// listGroups lists the groups of one protocol type that the config watches.
// When listing fails on some or all brokers, the groups of that protocol
// known from earlier cycles are added, so they are still fetched.
func (c *Collector) listGroups(ctx context.Context, cy *cycle, protocol string) []string {
	listed, err := c.adm.ListGroupsByType(ctx, []string{protocol})
	names := listed.Groups()
	if err != nil {
		c.fail(cy, "list_groups", fmt.Errorf("list %s groups: %w", protocol, err))
		names = append(names, c.knownGroups(protocol)...)
	}
	seen := make(map[string]bool, len(names))
	var out []string
	for _, g := range names {
		if !seen[g] && c.cfg.wantGroup(g) && !c.own[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// knownGroups returns the groups of protocol described in earlier cycles.
// It runs while the state is not written (before the groups phase).
func (c *Collector) knownGroups(protocol string) []string {
	var out []string
	for name, gs := range c.state.groups {
		if gs.info != nil && gs.info.protocol == protocol {
			out = append(out, name)
		}
	}
	return out
}

// fetchConfigs reads retention.ms and cleanup.policy of every topic.
func (c *Collector) fetchConfigs(ctx context.Context, cy *cycle, topics []string) map[string]topicConfig {
	out := make(map[string]topicConfig, len(topics))
	if len(topics) == 0 {
		return out
	}
	rcs, err := c.adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		c.fail(cy, "describe_configs", fmt.Errorf("describe topic configs: %w", err))
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			continue
		}
		tc := topicConfig{deletes: true}
		for _, kv := range rc.Configs {
			switch {
			case kv.Value == nil:
			case kv.Key == "retention.ms":
				tc.retention, tc.retentionMS = retentionSeconds(*kv.Value), *kv.Value
			case kv.Key == "retention.bytes":
				tc.bytes, _ = strconv.ParseInt(*kv.Value, 10, 64)
			case kv.Key == "cleanup.policy":
				tc.compacted, tc.cleanup = *kv.Value == "compact", *kv.Value
				tc.deletes = strings.Contains(*kv.Value, "delete")
			}
		}
		out[rc.Name] = tc
	}
	return out
}

func retentionSeconds(ms string) float64 {
	v, err := strconv.ParseInt(ms, 10, 64)
	switch {
	case err != nil:
		return 0
	case v < 0:
		return -1
	}
	return float64(v) / 1000
}

// fetchGroups describes and fetches the committed offsets of the listed
// groups, in batches of cfg.FetchGroupsPerReq with at most
// cfg.MaxConcurrent batches in flight. Each batch of offsets is reduced to
// one int64 per partition as soon as it arrives, so the decoded responses
// of at most MaxConcurrent batches are alive at once.
func (c *Collector) fetchGroups(ctx context.Context, cy *cycle, classic, consumer []string) {
	var eg errgroup.Group
	eg.SetLimit(c.cfg.MaxConcurrent)
	for _, batch := range chunk(classic, c.cfg.FetchGroupsPerReq) {
		eg.Go(func() error { c.describeClassic(ctx, cy, batch); return nil })
	}
	for _, batch := range chunk(consumer, c.cfg.FetchGroupsPerReq) {
		eg.Go(func() error { c.describeConsumer(ctx, cy, batch); return nil })
	}
	all := append(append([]string(nil), classic...), consumer...)
	for _, batch := range chunk(all, c.cfg.FetchGroupsPerReq) {
		eg.Go(func() error { c.fetchOffsets(ctx, cy, batch); return nil })
	}
	_ = eg.Wait()
}

// describeClassic describes classic groups. Real Kafka 4.x answers
// GROUP_ID_NOT_FOUND for a KIP-848 group on DescribeGroups; such groups are
// described again with ConsumerGroupDescribe.
func (c *Collector) describeClassic(ctx context.Context, cy *cycle, groups []string) {
	described, err := c.adm.DescribeGroups(ctx, groups...)
	if err != nil {
		c.fail(cy, "describe_groups", fmt.Errorf("describe groups: %w", err))
	}
	var retry []string
	cy.mu.Lock()
	for _, g := range groups {
		d, ok := described[g]
		switch {
		case ok && errors.Is(d.Err, kerr.GroupIDNotFound):
			retry = append(retry, g)
		case ok:
			cy.groups[g] = &groupInfo{protocol: ProtocolClassic, state: d.State,
				members: len(d.Members), owned: d.AssignedPartitions(), assign: classicAssignments(d), err: d.Err}
		default:
			cy.groups[g] = &groupInfo{protocol: ProtocolClassic, err: errNotDescribed}
		}
	}
	cy.mu.Unlock()
	if len(retry) > 0 {
		c.describeConsumer(ctx, cy, retry)
	}
}

var errNotDescribed = errors.New("group was not described")

// classicAssignments maps each assigned partition of a classic group to
// its member's index; nil when no member's assignment decodes as the
// consumer protocol's (then any member counts as owning every partition).
func classicAssignments(d kadm.DescribedGroup) map[string]map[int32]int {
	var out map[string]map[int32]int
	for i, m := range d.Members {
		c, ok := m.Assigned.AsConsumer()
		if !ok {
			continue
		}
		for _, t := range c.Topics {
			out = assignTo(out, t.Topic, t.Partitions, i)
		}
	}
	return out
}

// consumerAssignments is classicAssignments for a KIP-848 group.
func consumerAssignments(d kadm.DescribedConsumerGroup) map[string]map[int32]int {
	var out map[string]map[int32]int
	for i, m := range d.Members {
		for topic, parts := range m.Assignment {
			ps := make([]int32, 0, len(parts))
			for p := range parts {
				ps = append(ps, p)
			}
			out = assignTo(out, topic, ps, i)
		}
	}
	return out
}

func assignTo(m map[string]map[int32]int, topic string, parts []int32, member int) map[string]map[int32]int {
	if m == nil {
		m = map[string]map[int32]int{}
	}
	if m[topic] == nil {
		m[topic] = map[int32]int{}
	}
	for _, p := range parts {
		m[topic][p] = member
	}
	return m
}

// describeConsumer describes KIP-848 groups with ConsumerGroupDescribe.
func (c *Collector) describeConsumer(ctx context.Context, cy *cycle, groups []string) {
	described, err := c.adm.DescribeConsumerGroups(ctx, groups...)
	if err != nil {
		c.fail(cy, "describe_consumer_groups", fmt.Errorf("describe consumer groups: %w", err))
	}
	cy.mu.Lock()
	defer cy.mu.Unlock()
	for _, g := range groups {
		d, ok := described[g]
		if !ok {
			cy.groups[g] = &groupInfo{protocol: ProtocolConsumer, err: errNotDescribed}
			continue
		}
		owned := d.AssignedPartitions()
		var assign map[string]map[int32]int
		if _, unnamed := owned[""]; unnamed {
			owned = nil // assignment by topic id only (kfake): ownership unknown
		} else {
			assign = consumerAssignments(d)
		}
		cy.groups[g] = &groupInfo{protocol: ProtocolConsumer, state: d.State,
			members: len(d.Members), owned: owned, assign: assign, err: d.Err}
	}
}

// fetchOffsets fetches the committed offsets of a batch of groups in one
// OffsetFetch request per coordinator and keeps them for the fold.
func (c *Collector) fetchOffsets(ctx context.Context, cy *cycle, groups []string) {
	fetched := c.fetchCommits(ctx, groups, c.cfg.wantTopic)
	var failed int
	var first error
	cy.mu.Lock()
	for _, g := range groups {
		r, ok := fetched[g]
		switch {
		case ok && errors.Is(r.err, kerr.GroupIDNotFound):
			// a group that exists but never committed (real Kafka answers
			// OffsetFetch so): no committed offsets, not an admin error
			cy.commits[g] = groupCommits{}
		case !ok || r.err != nil:
			failed++
			err := fmt.Errorf("fetch offsets of group %q: %w", g, orMissing(r.err))
			if first == nil {
				first = err
			}
			cy.failed[g] = err
		default:
			cy.commits[g] = r.commits
		}
	}
	cy.mu.Unlock()
	if failed > 0 {
		c.adminErrors.WithLabelValues("offset_fetch").Add(float64(failed - 1))
		c.fail(cy, "offset_fetch", fmt.Errorf("%d of %d groups failed, first: %w", failed, len(groups), first))
	}
}

// errNoAnswer: a group the coordinators' answers left out.
var errNoAnswer = errors.New("no response for group")

func orMissing(err error) error {
	if err == nil {
		return errNoAnswer
	}
	return err
}

// groupCommits is a group's committed offsets: per watched topic, one
// offset per partition, -1 where the group has none.
type groupCommits map[string][]int64

// foldAll writes every fetched group's committed offsets into its window
// summaries; it runs once this cycle's start and end offsets are recorded.
func (c *Collector) foldAll(cy *cycle) {
	for group, commits := range cy.commits {
		c.fold(group, commits)
		cy.fetched[group] = true
	}
}

// fold writes one group's committed offsets into its window summaries.
func (c *Collector) fold(group string, commits groupCommits) {
	st := c.state
	gs := st.groups[group]
	if gs == nil {
		gs = &groupState{topics: map[string]*groupTopicState{}}
		st.groups[group] = gs
	}
	gs.lastCycle = st.cycle
	gs.allowed = c.cfg.allowedLag(group)
	for topic, committed := range commits {
		ts := st.topics[topic]
		if ts == nil {
			continue
		}
		gt := st.groupTopic(gs, topic, ts.partitions)
		for p, at := range committed[:min(len(committed), ts.partitions)] {
			if at < 0 {
				continue
			}
			start, end := st.current(ts, p)
			w := &gt.parts[p]
			w.observe(int32(st.cycle), int32(st.window), at, offsetLag(at, start, end), end != noSample, gs.allowed)
			gt.lost += w.lost(start)
		}
	}
}

// recordTopics writes this cycle's start and end offsets into the state.
func (c *Collector) recordTopics(ctx context.Context, cy *cycle) {
	st := c.state
	c.seedTables(ctx, cy)
	for topic, parts := range cy.ends {
		n := maxPartition(parts) + 1
		if n <= 0 {
			continue
		}
		ts := st.topic(topic, n)
		st.beginTopic(ts)
		for p, end := range parts {
			if p < 0 || end.Err != nil {
				continue
			}
			start := int64(noSample)
			if s, ok := cy.starts.Lookup(topic, p); ok && s.Err == nil {
				start = s.Offset
			}
			st.recordOffsets(ts, int(p), start, end.Offset, cy.at)
		}
		c.recordTopicMeta(cy, topic, ts)
	}
	c.recordSizes(ctx, cy)
	for name, ts := range st.topics {
		if _, ok := cy.ends[name]; !ok {
			st.clearCurrent(ts.ends)
			st.clearCurrent(ts.starts)
		}
	}
}

// seedTables starts the offset tables of partitions seen for the first time
// with the largest record timestamp of the partition (ListOffsets -3, one
// request per broker for the topics that have such partitions), taken as the
// time the end offset was reached: records after the one with the largest
// timestamp are almost always from the same batch.
func (c *Collector) seedTables(ctx context.Context, cy *cycle) {
	var fresh []string
	for topic, parts := range cy.ends {
		if ts := c.state.topics[topic]; ts == nil || ts.partitions != maxPartition(parts)+1 {
			fresh = append(fresh, topic)
		}
	}
	if len(fresh) == 0 {
		return
	}
	listed, err := c.adm.ListMaxTimestampOffsets(ctx, fresh...)
	if err != nil {
		c.fail(cy, "list_max_timestamp_offsets", fmt.Errorf("list offsets: %w", err))
	}
	for _, topic := range fresh {
		parts := cy.ends[topic]
		ts := c.state.topic(topic, maxPartition(parts)+1)
		for p, end := range parts {
			last, ok := listed.Lookup(topic, p)
			if p < 0 || end.Err != nil || !ok || last.Err != nil || last.Offset < 0 || last.Offset >= end.Offset || last.Timestamp <= 0 {
				continue
			}
			ts.tables[p].seed(end.Offset, time.UnixMilli(last.Timestamp), cy.at)
		}
	}
}

func (c *Collector) recordTopicMeta(cy *cycle, topic string, ts *topicState) {
	if tc, ok := cy.configs[topic]; ok {
		ts.retention, ts.compacted, ts.deletes, ts.retentionBytes = tc.retention, tc.compacted, tc.deletes, tc.bytes
		ts.retentionMS, ts.cleanup = tc.retentionMS, tc.cleanup
	}
	if td, ok := cy.meta.Topics[topic]; ok && len(td.Partitions) > 0 {
		ts.replicas = minReplicas(td.Partitions)
	}
}

// recordSizes reads the partition sizes (DescribeLogDirs, one request per
// broker) of the topics with retention.bytes set, for time to loss by size.
func (c *Collector) recordSizes(ctx context.Context, cy *cycle) {
	set := kadm.TopicsSet{}
	for name, ts := range c.state.topics {
		if ts.retentionBytes > 0 && ts.lastCycle == c.state.cycle {
			for p := range ts.partitions {
				set.Add(name, int32(p))
			}
		}
	}
	if len(set) == 0 {
		return
	}
	dirs, err := c.adm.DescribeAllLogDirs(ctx, set)
	if err != nil {
		c.fail(cy, "describe_log_dirs", fmt.Errorf("describe log dirs: %w", err))
	}
	for name := range set {
		if ts := c.state.topics[name]; ts != nil {
			ts.sizes = fill(make([]int64, ts.partitions), 0)
		}
	}
	dirs.Each(func(d kadm.DescribedLogDir) {
		for name, parts := range d.Topics {
			ts := c.state.topics[name]
			if ts == nil || ts.sizes == nil {
				continue
			}
			for p, dp := range parts {
				if int(p) < len(ts.sizes) && dp.Size > ts.sizes[p] {
					ts.sizes[p] = dp.Size
				}
			}
		}
	})
}

func minReplicas(ps kadm.PartitionDetails) int {
	m := -1
	for _, p := range ps {
		if m < 0 || len(p.Replicas) < m {
			m = len(p.Replicas)
		}
	}
	return m
}

func maxPartition(parts map[int32]kadm.ListedOffset) int {
	m := -1
	for p := range parts {
		m = max(m, int(p))
	}
	return m
}

func chunk(s []string, n int) [][]string {
	var out [][]string
	for len(s) > n {
		out = append(out, s[:n:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}
