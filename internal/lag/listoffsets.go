package lag

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Special timestamps of a ListOffsets request.
const (
	listStart int64 = -2 // the log start offset
	listEnd   int64 = -1 // the end offset (high watermark)
)

// listOffsetsOf lists one offset (listStart or listEnd) of every partition
// the cycle's metadata names, in one ListOffsets request that the client
// shards per partition leader. kadm's ListStartOffsets and ListEndOffsets
// ask for the whole cluster's metadata again before each listing: two more
// Metadata round trips per cycle, each every partition's replicas, that
// the cycle's own metadata already answered. A topic the metadata
// answered with an error is listed as that error (partition -1), as kadm
// does.
func (c *Collector) listOffsetsOf(ctx context.Context, meta kadm.Metadata, timestamp int64) (kadm.ListedOffsets, error) {
	list := make(kadm.ListedOffsets, len(meta.Topics))
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	for name, td := range meta.Topics {
		if td.Err != nil {
			list[name] = map[int32]kadm.ListedOffset{-1: {Topic: name, Partition: -1, Err: td.Err}}
			continue
		}
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = name
		rt.Partitions = make([]kmsg.ListOffsetsRequestTopicPartition, 0, len(td.Partitions))
		for p := range td.Partitions {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition = p
			rp.Timestamp = timestamp
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	if len(req.Topics) == 0 {
		return list, nil
	}
	var errs []error
	for _, shard := range c.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			errs = append(errs, shard.Err)
			continue
		}
		resp, ok := shard.Resp.(*kmsg.ListOffsetsResponse)
		if !ok {
			errs = append(errs, fmt.Errorf("unexpected response %T", shard.Resp))
			continue
		}
		if err := addListed(list, resp); err != nil {
			errs = append(errs, err)
		}
	}
	return list, errors.Join(errs...)
}

// addListed adds one broker's ListOffsets answer to list; an authorization
// error refuses the listing as kadm does.
func addListed(list kadm.ListedOffsets, resp *kmsg.ListOffsetsResponse) error {
	for i := range resp.Topics {
		t := &resp.Topics[i]
		lt := list[t.Topic]
		if lt == nil {
			lt = make(map[int32]kadm.ListedOffset, len(t.Partitions))
			list[t.Topic] = lt
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if isAuthError(p.ErrorCode) {
				return kerr.ErrorForCode(p.ErrorCode)
			}
			lt[p.Partition] = kadm.ListedOffset{Topic: t.Topic, Partition: p.Partition, Timestamp: p.Timestamp,
				Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, Err: kerr.ErrorForCode(p.ErrorCode)}
		}
	}
	return nil
}
