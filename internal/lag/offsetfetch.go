package lag

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchedGroup is one group's OffsetFetch answer: its committed offsets
// per watched topic, or why there are none.
type fetchedGroup struct {
	commits groupCommits
	err     error
}

// fetchCommits asks the groups' coordinators for their committed offsets
// (one OffsetFetch request; the client shards it per coordinator and
// retries coordinator moves) and decodes each answer straight into
// groupCommits. kadm.FetchManyOffsets, which this replaces, first builds a
// map per topic and a struct per partition (with the metadata string
// copied), and that was the largest allocation of a cycle at estate size:
// 500,000 group partitions every interval. A group missing from the
// answers is missing from the result.
func (c *Collector) fetchCommits(ctx context.Context, groups []string, want func(string) bool) map[string]fetchedGroup {
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

// decodeGroup turns one group's answer into its committed offsets: per
// topic want accepts one offset per partition (partitions are dense from
// 0), -1 where the group has none or the partition answered an error.
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
			if p.ErrorCode != 0 || p.Partition < 0 {
				continue
			}
			for int(p.Partition) >= len(committed) {
				committed = append(committed, -1)
			}
			committed[p.Partition] = p.Offset
		}
		out[t.Topic] = committed
	}
	return fetchedGroup{commits: out}
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
