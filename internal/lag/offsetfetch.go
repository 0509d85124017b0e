package lag

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchedGroup is one group's OffsetFetch answer: its committed offsets
// per watched topic, or why there are none.
type fetchedGroup struct {
	commits groupCommits
	err     error
}

// fetchCommits asks the groups' coordinators (concurrently) for their
// committed offsets and decodes each answer straight into groupCommits: one int64 per
// committed partition. Decoding through kmsg (the client's sharded
// OffsetFetch) allocates a struct and a metadata string per committed
// partition — 27 of the 92 MB a lag cycle allocated at 10,000 partitions
// and 500 groups, and the cycle's largest transient at estate size — so
// the request goes to each coordinator as an OffsetFetch v8–v9 whose
// answer is read by offsetFetchResp. Brokers older than v8 (Kafka before
// 3.0) get the client's sharded request instead (fetchCommitsSharded). A
// group no coordinator answered for, after the retries, gets errNoAnswer.
func (c *Collector) fetchCommits(ctx context.Context, groups []string, want func(string) bool) map[string]fetchedGroup {
	if c.coord.tooOld.Load() {
		return c.fetchCommitsSharded(ctx, groups, want)
	}
	out := make(map[string]fetchedGroup, len(groups))
	pending := groups
	for attempt := 1; len(pending) > 0; attempt++ {
		last := attempt == fetchAttempts || ctx.Err() != nil
		var retry, old []string
		settle := func(g string, r fetchedGroup, retriable bool) {
			if retriable && !last {
				retry = append(retry, g)
				return
			}
			out[g] = r
		}
		byNode, failed := c.coord.lookup(ctx, c.cl, pending)
		for g, err := range failed {
			settle(g, fetchedGroup{err: err}, isRetriable(err))
		}
		var mu sync.Mutex // guards out, retry and old: the coordinators answer concurrently
		var wg sync.WaitGroup
		for node, gs := range byNode {
			wg.Go(func() {
				got, err := c.fetchFrom(ctx, node, gs, want)
				mu.Lock()
				defer mu.Unlock()
				if errors.Is(err, errOffsetFetchTooOld) {
					c.coord.tooOld.Store(true)
					old = append(old, gs...)
					return
				}
				for _, g := range gs {
					r, ok := got[g]
					switch {
					case err != nil:
						r = fetchedGroup{err: err}
						c.coord.forget(g) // the coordinator may be gone: look it up again
					case !ok:
						r = fetchedGroup{err: errNoAnswer}
					case isCoordinatorMoved(r.err):
						c.coord.forget(g)
					}
					settle(g, r, err != nil || isRetriable(r.err))
				}
			})
		}
		wg.Wait()
		if len(old) > 0 {
			for g, r := range c.fetchCommitsSharded(ctx, old, want) {
				out[g] = r
			}
		}
		if len(retry) > 0 && !sleepCtx(ctx, fetchBackoff(attempt)) {
			for _, g := range retry {
				out[g] = fetchedGroup{err: fmt.Errorf("offset fetch cut short: %w", ctx.Err())}
			}
			retry = nil
		}
		pending = retry
	}
	return out
}

// fetchAttempts bounds the tries of one group's OffsetFetch (a coordinator
// moving or loading); the cycle reports the group failed after the last.
const fetchAttempts = 5

// fetchBackoff is the wait before the attempt after attempt n: 100 ms,
// doubling, at most a second.
func fetchBackoff(n int) time.Duration { return min(100*time.Millisecond<<(n-1), time.Second) }

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// isCoordinatorMoved reports an answer that names the wrong coordinator:
// the group is looked up again.
func isCoordinatorMoved(err error) bool {
	return errors.Is(err, kerr.NotCoordinator) || errors.Is(err, kerr.CoordinatorNotAvailable)
}

// isRetriable reports an answer worth asking again: the coordinator moved
// or is still loading the group's offsets, the broker left a group out,
// or the request itself failed (a connection); not an authorization
// error or another refusal.
func isRetriable(err error) bool {
	if err == nil {
		return false
	}
	if isCoordinatorMoved(err) || errors.Is(err, kerr.CoordinatorLoadInProgress) || errors.Is(err, errNoAnswer) {
		return true
	}
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return ke.Retriable
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// fetchFrom sends one OffsetFetch for groups to their coordinator node.
func (c *Collector) fetchFrom(ctx context.Context, node int32, groups []string, want func(string) bool) (map[string]fetchedGroup, error) {
	req := &offsetFetchReq{OffsetFetchRequest: kmsg.NewPtrOffsetFetchRequest(), want: want}
	req.Groups = make([]kmsg.OffsetFetchRequestGroup, len(groups))
	for i, g := range groups {
		req.Groups[i] = kmsg.NewOffsetFetchRequestGroup()
		req.Groups[i].Group = g
	}
	resp, err := c.cl.Broker(int(node)).Request(ctx, req) // fetchCommits retries, looking the coordinator up again
	if err != nil {
		return nil, err
	}
	r, ok := resp.(*offsetFetchResp)
	if !ok {
		return nil, errNoAnswer
	}
	return r.groups, nil
}

// coordinators caches which broker coordinates each group, as the client
// does for its own group requests: looked up with one batched
// FindCoordinator for the groups not cached, forgotten when a broker says
// it no longer is, and dropped when no cycle asked for it since the one
// before (sweep), so deleted groups do not stay.
type coordinators struct {
	mu     sync.Mutex
	of     map[string]coordinator
	gen    uint32
	tooOld atomic.Bool // a broker answered OffsetFetch below v8: use the client's sharded request
}

type coordinator struct {
	node int32
	gen  uint32 // the last sweep generation that used it
}

// lookup groups the groups by coordinator; a group whose lookup failed is
// in failed with its error instead.
func (co *coordinators) lookup(ctx context.Context, cl *kgo.Client, groups []string) (byNode map[int32][]string, failed map[string]error) {
	byNode, failed = map[int32][]string{}, map[string]error{}
	var missing []string
	co.mu.Lock()
	if co.of == nil {
		co.of = map[string]coordinator{}
	}
	for _, g := range groups {
		if e, ok := co.of[g]; ok {
			e.gen = co.gen
			co.of[g] = e
			byNode[e.node] = append(byNode[e.node], g)
		} else {
			missing = append(missing, g)
		}
	}
	co.mu.Unlock()
	if len(missing) == 0 {
		return byNode, failed
	}
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorType = 0 // group
	req.CoordinatorKeys = missing
	found := make(map[string]bool, len(missing))
	var shardErr error // a request that failed: its groups are not found
	for _, shard := range cl.RequestSharded(ctx, req) {
		resp, _ := shard.Resp.(*kmsg.FindCoordinatorResponse)
		if shard.Err != nil || resp == nil {
			if shardErr == nil {
				shardErr = shard.Err
			}
			continue
		}
		co.mu.Lock()
		for _, k := range resp.Coordinators {
			found[k.Key] = true
			if err := kerr.ErrorForCode(k.ErrorCode); err != nil {
				failed[k.Key] = err
				continue
			}
			co.of[k.Key] = coordinator{node: k.NodeID, gen: co.gen}
			byNode[k.NodeID] = append(byNode[k.NodeID], k.Key)
		}
		co.mu.Unlock()
	}
	for _, g := range missing {
		if !found[g] {
			failed[g] = orMissing(shardErr)
		}
	}
	return byNode, failed
}

// forget drops a group's cached coordinator.
func (co *coordinators) forget(group string) {
	co.mu.Lock()
	delete(co.of, group)
	co.mu.Unlock()
}

// sweep starts a cycle: coordinators no cycle used since the last sweep
// are dropped.
func (co *coordinators) sweep() {
	co.mu.Lock()
	defer co.mu.Unlock()
	for g, e := range co.of {
		if e.gen != co.gen {
			delete(co.of, g)
		}
	}
	co.gen++
}

// fetchCommitsSharded is fetchCommits through the client's sharded
// OffsetFetch (it finds the coordinators, splits the request per broker
// and version, and retries coordinator moves), decoded by kmsg: for
// brokers that do not answer OffsetFetch v8.
func (c *Collector) fetchCommitsSharded(ctx context.Context, groups []string, want func(string) bool) map[string]fetchedGroup {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Groups = make([]kmsg.OffsetFetchRequestGroup, len(groups))
	for i, g := range groups {
		req.Groups[i] = kmsg.NewOffsetFetchRequestGroup()
		req.Groups[i].Group = g
	}
	out := make(map[string]fetchedGroup, len(groups))
	for _, shard := range c.cl.RequestSharded(ctx, req) {
		sent, _ := shard.Req.(*kmsg.OffsetFetchRequest)
		resp, _ := shard.Resp.(*kmsg.OffsetFetchResponse)
		err := shard.Err
		if err == nil && resp == nil {
			err = errNoAnswer
		}
		if err == nil && isAuthError(resp.ErrorCode) {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			if sent != nil {
				for _, g := range sent.Groups {
					out[g.Group] = fetchedGroup{err: err}
				}
			}
			continue
		}
		for i := range resp.Groups {
			g := &resp.Groups[i]
			out[g.Group] = decodeGroup(g, want)
		}
	}
	return out
}

// maxCommittedPartition bounds the partition numbers a group's answer may
// grow its offsets to: a partition beyond it cannot be a real one (Kafka
// caps a cluster far below), and growing to a corrupt int32 would
// allocate gigabytes.
const maxCommittedPartition = 1 << 20

// decodeGroup turns one group's kmsg-decoded answer into its committed
// offsets: per topic want accepts one offset per partition (partitions
// are dense from 0), -1 where the group has none or the partition
// answered an error.
func decodeGroup(g *kmsg.OffsetFetchResponseGroup, want func(string) bool) fetchedGroup {
	if err := kerr.ErrorForCode(g.ErrorCode); err != nil {
		return fetchedGroup{err: err}
	}
	out := make(groupCommits, len(g.Topics))
	for i := range g.Topics {
		t := &g.Topics[i]
		if !want(t.Topic) {
			continue
		}
		committed := out[t.Topic]
		if committed == nil {
			committed = fill(make([]int64, len(t.Partitions)), -1)
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			committed = commitAt(committed, p.Partition, p.Offset, p.ErrorCode)
		}
		out[t.Topic] = committed
	}
	return fetchedGroup{commits: out}
}

// commitAt records one partition's committed offset, growing committed
// (with -1) to hold it; a partition that answered an error, or whose
// number is negative or beyond maxCommittedPartition, is left out.
func commitAt(committed []int64, partition int32, offset int64, code int16) []int64 {
	if code != 0 || partition < 0 || partition >= maxCommittedPartition {
		return committed
	}
	for int(partition) >= len(committed) {
		committed = append(committed, -1)
	}
	committed[partition] = offset
	return committed
}

// offsetFetchReq is an OffsetFetch v8–v9 request (batched groups, topics by
// name) whose answer offsetFetchResp decodes straight into committed
// offsets.
type offsetFetchReq struct {
	*kmsg.OffsetFetchRequest
	want func(string) bool
}

// MaxVersion is 9: v10 names topics by id.
func (*offsetFetchReq) MaxVersion() int16 { return 9 }

// ResponseKind is called once the request's version is set.
func (r *offsetFetchReq) ResponseKind() kmsg.Response {
	return &offsetFetchResp{version: r.GetVersion(), req: r}
}

// errOffsetFetchTooOld: the broker answered OffsetFetch below v8.
var errOffsetFetchTooOld = errors.New("broker answers OffsetFetch below v8")

// offsetFetchResp decodes an OffsetFetch v8–v9 answer into each group's
// committed offsets (fetchedGroup, as decodeGroup makes them from kmsg's
// decoding), reading the wire format the way kmsg does but keeping one
// int64 per committed partition and nothing else: no struct, no metadata
// string. Group and topic names are the request's and the watched ones,
// so nothing refers to the response's bytes once it is decoded.
type offsetFetchResp struct {
	version  int16
	throttle int32
	req      *offsetFetchReq
	groups   map[string]fetchedGroup
}

func (r *offsetFetchResp) Key() int16                { return 9 }
func (r *offsetFetchResp) MaxVersion() int16         { return 9 }
func (r *offsetFetchResp) SetVersion(v int16)        { r.version = v }
func (r *offsetFetchResp) GetVersion() int16         { return r.version }
func (r *offsetFetchResp) IsFlexible() bool          { return r.version >= 6 }
func (r *offsetFetchResp) RequestKind() kmsg.Request { return r.req }

// Throttle is the broker's throttle, applied after the answer from v4.
func (r *offsetFetchResp) Throttle() (int32, bool) { return r.throttle, r.version >= 4 }

// AppendTo is never used: the client only reads answers.
func (r *offsetFetchResp) AppendTo(dst []byte) []byte { return dst }

// ReadFrom decodes an answer; an answer below v8 is errOffsetFetchTooOld.
func (r *offsetFetchResp) ReadFrom(src []byte) error {
	if r.version < 8 {
		return errOffsetFetchTooOld
	}
	var asked []kmsg.OffsetFetchRequestGroup
	want := anyTopic
	if r.req != nil {
		asked = r.req.Groups
		if r.req.want != nil {
			want = r.req.want
		}
	}
	groups, throttle, err := decodeOffsetFetch(src, asked, want)
	r.groups, r.throttle = groups, throttle
	return err
}

// decodeOffsetFetch reads an OffsetFetch v8–v9 answer (flexible): the
// fields kmsg's OffsetFetchResponse.ReadFrom reads, in its order, with the
// same checks (kbin's reader), so one is malformed exactly when the other
// is (FuzzDecodeOffsetFetch).
func decodeOffsetFetch(src []byte, asked []kmsg.OffsetFetchRequestGroup, want func(string) bool) (map[string]fetchedGroup, int32, error) {
	b := kbin.Reader{Src: src}
	throttle := b.Int32()
	n := b.CompactArrayLen()
	if !b.Ok() {
		return nil, throttle, b.Complete()
	}
	out := make(map[string]fetchedGroup, max(n, 0))
	var names map[string]string // topic names met, each kept once
	for range n {
		group := b.UnsafeCompactString()
		nt := b.CompactArrayLen()
		if !b.Ok() {
			return out, throttle, b.Complete()
		}
		commits := make(groupCommits, max(nt, 0))
		for range nt {
			topic := b.UnsafeCompactString()
			np := b.CompactArrayLen()
			if !b.Ok() {
				return out, throttle, b.Complete()
			}
			name, ok := names[topic]
			if !ok {
				name = strings.Clone(topic)
				if names == nil {
					names = map[string]string{}
				}
				names[name] = name
			}
			keep := want(name)
			var committed []int64
			if keep {
				committed = commits[name]
				if committed == nil {
					committed = fill(make([]int64, max(np, 0)), -1)
				}
			}
			for range np {
				partition := b.Int32()
				offset := b.Int64()
				b.Int32() // leader epoch
				b.CompactNullableBytes()
				code := b.Int16()
				skipTags(&b)
				if keep {
					committed = commitAt(committed, partition, offset, code)
				}
			}
			skipTags(&b)
			if keep {
				commits[name] = committed
			}
		}
		code := b.Int16()
		skipTags(&b)
		if !b.Ok() {
			return out, throttle, b.Complete()
		}
		name := askedName(asked, group)
		if err := kerr.ErrorForCode(code); err != nil {
			out[name] = fetchedGroup{err: err}
		} else {
			out[name] = fetchedGroup{commits: commits}
		}
	}
	skipTags(&b)
	return out, throttle, b.Complete()
}

// askedName is the request's copy of a group name read from an answer (a
// copy when the request did not ask for it).
func askedName(asked []kmsg.OffsetFetchRequestGroup, group string) string {
	for i := range asked {
		if asked[i].Group == group {
			return asked[i].Group
		}
	}
	return strings.Clone(group)
}

// skipTags reads past a flexible message's tagged fields.
func skipTags(b *kbin.Reader) {
	for range b.Uvarint() {
		b.Uvarint() // key
		b.Span(int(b.Uvarint()))
		if !b.Ok() {
			return
		}
	}
}

// anyTopic wants every topic (the sampler group's positions: the sampled
// topics are not the lag collector's watched ones).
func anyTopic(string) bool { return true }

// isAuthError reports whether a top-level error code refuses the whole
// request (as kadm treats it): the groups in it get that error.
func isAuthError(code int16) bool {
	switch code {
	case kerr.ClusterAuthorizationFailed.Code, kerr.TopicAuthorizationFailed.Code, kerr.GroupAuthorizationFailed.Code:
		return true
	}
	return false
}
