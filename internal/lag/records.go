package lag

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sync/errgroup"
)

// Exact time lag: the time lag of a partition is now minus the timestamp
// of the first record the group has not read, the record at its committed
// offset. An offset's record never changes, so its timestamp is cached per
// (topic, partition, offset) for as long as some group's committed offset
// points there; a cycle fetches only the partitions with a committed
// offset not in the cache (and not among the records this replica's
// sampler just read: SeenTimes), at most Config.RecordLookups of them, one
// Fetch request per leader broker (a batch of records answers every group's
// offset inside it at once). What cannot be read this way — deleted by
// retention, not permitted, compacted or aborted away, over the budget, or
// no record client — falls back to the estimate from the offset tables
// and is marked "estimated" (docs/lag.md, "Fallback").

// Fetch limits of a lookup request.
const (
	lookupPartitionBytes = 256 << 10 // a record batch is returned whole; this bounds the rest
	lookupRequestBytes   = 4 << 20
	lookupPerRequest     = 256             // partitions per Fetch request
	stampsPerPartition   = 64              // cached offsets per partition before the unused ones are dropped
	stampRetryCycles     = 10              // cycles before an unreadable offset is tried again
	stampUnreadable      = int64(-1 << 62) // a cached "could not be read" (never a real timestamp)
)

// stamp is a cached record timestamp: the first record at or after off
// has timestamp ms; used is the last cycle a group needed it.
type stamp struct {
	off  int64
	ms   int64
	used int64 // last cycle a group needed it
	put  int64 // cycle it was stored
}

// stampSet is one partition's cached stamps, sorted by offset.
type stampSet []stamp

// find returns the index of off in the set and whether it is there.
func (s stampSet) find(off int64) (int, bool) {
	i := sort.Search(len(s), func(i int) bool { return s[i].off >= off })
	return i, i < len(s) && s[i].off == off
}

// stampOf returns the cached timestamp (unix milliseconds) of the record
// at off on partition p, marking it used in cycle.
func (ts *topicState) stampOf(p int, off, cycle int64) (int64, bool) {
	if p >= len(ts.stamps) {
		return 0, false
	}
	s := ts.stamps[p]
	i, ok := s.find(off)
	if !ok || s[i].ms == stampUnreadable {
		return 0, false
	}
	s[i].used = cycle
	return s[i].ms, true
}

// wanted reports whether off needs a lookup in cycle: not cached, or cached
// unreadable long enough ago to try again.
func (ts *topicState) wanted(p int, off, cycle int64) bool {
	i, ok := ts.stamps[p].find(off)
	if !ok {
		return true
	}
	st := &ts.stamps[p][i]
	st.used = cycle
	return st.ms == stampUnreadable && cycle-st.put >= stampRetryCycles
}

// put caches the timestamp of off (stampUnreadable when it cannot be
// read), dropping entries no group used in the last two cycles once the
// set is large.
func (ts *topicState) put(p int, off, ms, cycle int64) {
	s := ts.stamps[p]
	if len(s) >= stampsPerPartition {
		kept := s[:0]
		for _, x := range s {
			if x.used >= cycle-1 {
				kept = append(kept, x)
			}
		}
		s = kept
	}
	i, ok := s.find(off)
	if !ok {
		s = append(s, stamp{})
		copy(s[i+1:], s[i:])
	}
	s[i] = stamp{off: off, ms: ms, used: cycle, put: cycle}
	ts.stamps[p] = s
}

// lookup is one partition whose records must be read: the offsets wanted,
// ascending.
type lookup struct {
	topic string
	part  int32
	offs  []int64
}

// lookupTimes fills the stamp cache for this cycle's committed offsets.
// It runs after the commits are folded and before the snapshot is built.
func (c *Collector) lookupTimes(ctx context.Context, cy *cycle) {
	if (c.records == nil && c.seen == nil) || !c.cfg.exact() || !cy.metaOK {
		return
	}
	wants := c.fromSampled(c.wantedStamps())
	if len(wants) == 0 || c.records == nil {
		return
	}
	if len(wants) > c.cfg.RecordLookups {
		wants = wants[:c.cfg.RecordLookups] // the rest next cycle; estimated until then
	}
	byLeader := map[int32][]lookup{}
	for _, l := range wants {
		if td, ok := cy.meta.Topics[l.topic]; ok {
			if pd, ok := td.Partitions[l.part]; ok && pd.Leader >= 0 {
				byLeader[pd.Leader] = append(byLeader[pd.Leader], l)
			}
		}
	}
	var eg errgroup.Group
	eg.SetLimit(c.cfg.MaxConcurrent)
	var mu sync.Mutex
	var found []lookupResult
	for leader, ls := range byLeader {
		for len(ls) > 0 {
			n := min(len(ls), lookupPerRequest)
			batch := ls[:n]
			ls = ls[n:]
			eg.Go(func() error {
				rs := c.fetchStamps(ctx, cy, leader, batch)
				mu.Lock()
				found = append(found, rs...)
				mu.Unlock()
				return nil
			})
		}
	}
	_ = eg.Wait()
	for _, r := range found {
		if ts := c.state.topics[r.topic]; ts != nil && int(r.part) < ts.partitions {
			ts.put(int(r.part), r.off, r.ms, c.state.cycle)
			if r.ms != stampUnreadable {
				c.stamps.WithLabelValues(stampFetched).Inc()
			}
		}
	}
}

// Sources of eventwatch_time_lag_records_total.
const (
	stampSampled = "sampled" // the sampler read the record (SeenTimes)
	stampFetched = "fetched" // a Fetch lookup read it
)

// fromSampled caches the wanted offsets whose timestamps the sampler's
// records tell (WithSampledTimes) and returns the lookups still needed:
// those offsets cost no request.
func (c *Collector) fromSampled(wants []lookup) []lookup {
	if c.seen == nil {
		return wants
	}
	out := wants[:0]
	for _, l := range wants {
		ts := c.state.topics[l.topic]
		rest := l.offs[:0]
		for _, off := range l.offs {
			if ms, ok := c.seen.stamp(l.topic, l.part, off); ok && ts != nil {
				ts.put(int(l.part), off, ms, c.state.cycle)
				c.stamps.WithLabelValues(stampSampled).Inc()
				continue
			}
			rest = append(rest, off)
		}
		if len(rest) > 0 {
			l.offs = rest
			out = append(out, l)
		}
	}
	return out
}

// lookupResult is the timestamp found (or not) for one wanted offset.
type lookupResult struct {
	topic string
	part  int32
	off   int64
	ms    int64
}

// wantedStamps lists the partitions with a committed offset (with lag) of
// some group whose record timestamp is not cached, the oldest offsets of
// the most lagging partitions first. Each partition appears once, with
// every offset wanted on it.
func (c *Collector) wantedStamps() []lookup {
	st := c.state
	type key struct {
		topic string
		part  int
	}
	want := map[key]map[int64]bool{}
	for _, gs := range st.groups {
		if gs.lastCycle != st.cycle {
			continue
		}
		for topic, gt := range gs.topics {
			ts := st.topics[topic]
			if ts == nil || gt.lastCycle != st.cycle {
				continue
			}
			for p := range min(ts.partitions, len(gt.parts)) {
				w := &gt.parts[p]
				if int64(w.seen) != st.cycle || w.lag <= 0 {
					continue
				}
				start, end := st.current(ts, p)
				if end < 0 {
					continue
				}
				off := max(w.committed, start)
				if !ts.wanted(p, off, st.cycle) {
					continue
				}
				k := key{topic, p}
				if want[k] == nil {
					want[k] = map[int64]bool{}
				}
				want[k][off] = true
			}
		}
	}
	out := make([]lookup, 0, len(want))
	for k, offs := range want {
		l := lookup{topic: k.topic, part: int32(k.part)}
		for o := range offs {
			l.offs = append(l.offs, o)
		}
		sort.Slice(l.offs, func(i, j int) bool { return l.offs[i] < l.offs[j] })
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].topic != out[j].topic {
			return out[i].topic < out[j].topic
		}
		return out[i].part < out[j].part
	})
	return out
}

// fetchStamps reads the records at the wanted offsets of a batch of
// partitions led by one broker, in one Fetch request from the lowest
// wanted offset of each, and reports every wanted offset the returned
// batches answer. An offset the broker cannot serve (deleted, not
// permitted) is reported unreadable; one the returned records do not reach
// is left for the next cycle.
func (c *Collector) fetchStamps(ctx context.Context, cy *cycle, leader int32, ls []lookup) []lookupResult {
	req := c.fetchRequest(cy, ls)
	resp, err := c.records.Broker(int(leader)).Request(ctx, req)
	if err != nil {
		c.fail(cy, "fetch_records", fmt.Errorf("fetch records for time lag from broker %d: %w", leader, err))
		return nil
	}
	fr, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return nil
	}
	if err := kerr.ErrorForCode(fr.ErrorCode); err != nil {
		c.fail(cy, "fetch_records", fmt.Errorf("fetch records for time lag from broker %d: %w", leader, err))
		return nil
	}
	var out []lookupResult
	byTP := map[string]map[int32]lookup{}
	for _, l := range ls {
		if byTP[l.topic] == nil {
			byTP[l.topic] = map[int32]lookup{}
		}
		byTP[l.topic][l.part] = l
	}
	names := topicNames(cy)
	for i := range fr.Topics {
		t := &fr.Topics[i]
		topic := t.Topic
		if topic == "" {
			topic = names[t.TopicID]
		}
		for j := range t.Partitions {
			if l, ok := byTP[topic][t.Partitions[j].Partition]; ok {
				out = resolve(l, &t.Partitions[j], out)
			}
		}
	}
	return out
}

// fetchRequest builds a sessionless Fetch of the lowest wanted offset of
// every partition in ls (read_uncommitted: every record has a timestamp).
func (c *Collector) fetchRequest(cy *cycle, ls []lookup) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = 0
	req.MinBytes = 0
	req.MaxBytes = lookupRequestBytes
	req.SessionEpoch = -1
	idx := map[string]int{}
	for _, l := range ls {
		i, ok := idx[l.topic]
		if !ok {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = l.topic
			if td, ok := cy.meta.Topics[l.topic]; ok {
				t.TopicID = td.ID
			}
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			idx[l.topic] = i
		}
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition = l.part
		p.FetchOffset = l.offs[0]
		p.PartitionMaxBytes = lookupPartitionBytes
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, p)
	}
	return req
}

func topicNames(cy *cycle) map[[16]byte]string {
	out := make(map[[16]byte]string, len(cy.meta.Topics))
	for name, td := range cy.meta.Topics {
		out[td.ID] = name
	}
	return out
}

// resolve decodes one partition of a Fetch answer and reports the
// timestamp of the first record at or after each wanted offset that the
// returned records reach. Errors that will not go away by retrying next
// cycle (offset out of range: deleted; authorization) make every wanted
// offset unreadable for a while.
func resolve(l lookup, rp *kmsg.FetchResponseTopicPartition, out []lookupResult) []lookupResult {
	switch err := kerr.ErrorForCode(rp.ErrorCode); {
	case err == nil:
	case errors.Is(err, kerr.OffsetOutOfRange), errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.UnknownTopicOrPartition):
		for _, off := range l.offs {
			out = append(out, lookupResult{topic: l.topic, part: l.part, off: off, ms: stampUnreadable})
		}
		return out
	default:
		return out // NOT_LEADER and the like: next cycle
	}
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Offset: l.offs[0], Topic: l.topic, Partition: l.part},
		rp, kgo.DefaultDecompressor(), nil)
	recs := fp.Records
	if len(recs) == 0 && len(rp.RecordBatches) > 0 {
		// batches, but no data record at or after the offset: control
		// records or aborted transactions only
		for _, off := range l.offs {
			out = append(out, lookupResult{topic: l.topic, part: l.part, off: off, ms: stampUnreadable})
		}
		return out
	}
	for _, off := range l.offs {
		i := sort.Search(len(recs), func(i int) bool { return recs[i].Offset >= off })
		if i < len(recs) {
			out = append(out, lookupResult{topic: l.topic, part: l.part, off: off, ms: recs[i].Timestamp.UnixMilli()})
		}
	}
	return out
}
