package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndOffsets lists where each partition of topic ends (its high
// watermark), asking the brokers directly: a Metadata request for topic
// alone, then a ListOffsets request to each partition's leader. Neither
// answer enters cl's metadata cache. kadm's ListEndOffsets goes through
// franz-go's sharded ListOffsets, which loads the metadata of every topic
// in the cluster into the client and keeps it there (4 MB at 500 topics
// and 10,000 partitions, for a client that reads one topic).
func EndOffsets(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	leaders, err := partitionLeaders(ctx, cl, topic)
	if err != nil {
		return nil, err
	}
	byLeader := map[int32][]int32{}
	for p, l := range leaders {
		byLeader[l] = append(byLeader[l], p)
	}
	ends := make(map[int32]int64, len(leaders))
	for leader, parts := range byLeader {
		if err := listEnds(ctx, cl.Broker(int(leader)), topic, parts, ends); err != nil {
			return nil, err
		}
	}
	return ends, nil
}

// Metadata asks the first known broker that answers for the metadata of
// topics (nil: every topic), directly: the answer does not enter cl's
// metadata cache, which would otherwise keep every partition it names.
func Metadata(ctx context.Context, cl *kgo.Client, topics ...string) (*kmsg.MetadataResponse, error) {
	brokers := cl.DiscoveredBrokers()
	if len(brokers) == 0 {
		brokers = cl.SeedBrokers()
	}
	req := kmsg.NewPtrMetadataRequest()
	for _, topic := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
	}
	err := errors.New("no broker known")
	for _, b := range brokers {
		var resp kmsg.Response
		if resp, err = b.Request(ctx, req); err == nil {
			return resp.(*kmsg.MetadataResponse), nil
		}
	}
	return nil, fmt.Errorf("metadata: %w", err)
}

// partitionLeaders asks for topic's metadata alone.
func partitionLeaders(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int32, error) {
	meta, err := Metadata(ctx, cl, topic)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	for _, t := range meta.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("metadata of %s: %w", topic, err)
		}
		leaders := make(map[int32]int32, len(t.Partitions))
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("metadata of %s/%d: %w", topic, p.Partition, err)
			}
			leaders[p.Partition] = p.Leader
		}
		return leaders, nil
	}
	return nil, fmt.Errorf("metadata of %s: %w", topic, kerr.UnknownTopicOrPartition)
}

// listEnds asks one leader for the end offsets of its partitions.
func listEnds(ctx context.Context, b *kgo.Broker, topic string, parts []int32, into map[int32]int64) error {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = -1 // the end
		rp.CurrentLeaderEpoch = -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := b.Request(ctx, req)
	if err != nil {
		return fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	for _, t := range resp.(*kmsg.ListOffsetsResponse).Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("list end offset of %s/%d: %w", topic, p.Partition, err)
			}
			into[p.Partition] = p.Offset
		}
	}
	return nil
}
