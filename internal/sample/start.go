package sample

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// endOffsets is, for every watched partition that existed when the sampler
// started, where `start_from: latest` begins it if the group never
// committed it: the first record produced after New was called.
type endOffsets map[string]map[int32]int64

// snapshotEnds lists the start offsets of the watched partitions, retrying
// with backoff (up to 30s between tries) until it succeeds, or reports false
// when ctx is done first.
func (s *Sampler) snapshotEnds(ctx context.Context) (endOffsets, bool) {
	backoff := time.Second
	for {
		ends, err := s.listEnds(ctx)
		if err == nil {
			return ends, true
		}
		s.m.errors.WithLabelValues("connect").Inc()
		if s.status.failed(s.now(), err) {
			s.log.Warn("list end offsets for start_from latest; retrying", "err", err, "retry_in", backoff)
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// listEnds makes one attempt with a short-lived client on the base options.
// It lists the end offsets first, then the first offsets stamped at or after
// the sampler's creation, and keeps the smaller of the two: records produced
// between New and this listing are sampled, and a record appended between
// the two requests cannot be skipped (it would be found by the second).
func (s *Sampler) listEnds(ctx context.Context) (endOffsets, error) {
	cl, err := kgo.NewClient(s.base...)
	if err != nil {
		return nil, fmt.Errorf("create admin client: %w", err)
	}
	defer cl.Close()
	lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return s.startingOffsets(lctx, kadm.NewClient(cl), s.created.UnixMilli())
}

// startingOffsets lists the end offsets of every watched partition and
// lowers each to the first record stamped at or after milli.
func (s *Sampler) startingOffsets(ctx context.Context, adm *kadm.Client, milli int64) (endOffsets, error) {
	listed, err := adm.ListEndOffsets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	ends := endOffsets{}
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && s.cfg.WantTopic(o.Topic) {
			ends.set(o.Topic, o.Partition, o.Offset)
		}
	})
	if len(ends) == 0 {
		return ends, nil
	}
	after, err := adm.ListOffsetsAfterMilli(ctx, milli, ends.topics()...)
	if err != nil {
		return nil, fmt.Errorf("list offsets after start: %w", err)
	}
	after.Each(func(o kadm.ListedOffset) {
		if end, ok := ends[o.Topic][o.Partition]; ok && o.Err == nil && o.Offset >= 0 && o.Offset < end {
			ends.set(o.Topic, o.Partition, o.Offset)
		}
	})
	return ends, nil
}

func (e endOffsets) set(topic string, partition int32, offset int64) {
	if e[topic] == nil {
		e[topic] = map[int32]int64{}
	}
	e[topic][partition] = offset
}

func (e endOffsets) get(topic string, partition int32) (int64, bool) {
	o, ok := e[topic][partition]
	return o, ok
}

func (e endOffsets) topics() []string {
	out := make([]string, 0, len(e))
	for t := range e {
		out = append(out, t)
	}
	return out
}

// adjustStart places partitions the group never committed (franz-go gives
// them the configured start, the log start). Once the group is known to be
// watching the estate (watching: a ledger recorded its first start) such a
// partition is new traffic and keeps its log start. Otherwise (no ledger,
// or its store unreadable) a partition that existed when the sampler
// started begins at its first record produced after New; a partition of a
// topic created since begins at its first record; a partition added to an
// existing topic since (or whose end could not be listed) begins at its
// end now.
func (s *Sampler) adjustStart(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	if s.watching.Load() {
		return offsets, nil
	}
	for topic, parts := range offsets {
		known, topicExisted := s.startEnds[topic]
		for p, o := range parts {
			if o.EpochOffset().Offset >= 0 {
				continue // committed: resume there
			}
			if end, ok := known[p]; ok {
				parts[p] = kgo.NewOffset().At(end)
			} else if topicExisted {
				parts[p] = kgo.NewOffset().AtEnd()
			}
		}
	}
	return offsets, nil
}
