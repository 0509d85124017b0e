package sample

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// commitTimeout bounds the commit made when partitions are revoked.
const commitTimeout = 10 * time.Second

// onAssigned starts tracking newly assigned partitions. franz-go calls it
// before fetching them.
func (s *Sampler) onAssigned(_ context.Context, _ *kgo.Client, tps map[string][]int32) {
	s.mu.Lock()
	s.parts.assign(tps)
	n := s.parts.count()
	s.assigned.Store(s.parts.list())
	s.mu.Unlock()
	s.m.partitions.Set(float64(n))
	s.m.rebal.WithLabelValues("assigned").Inc()
	s.status.assigned(n)
	s.log.Info("partitions assigned", "partitions", countTPs(tps), "assigned_total", n)
}

// onRevoked commits the marked progress, then forgets the revoked
// partitions. Holding s.mu means no batch is half processed: the commit
// covers everything counted, and records of revoked partitions still in a
// polled batch are ignored, so the next owner neither misses nor repeats any.
//
// With a ledger it instead stops delivering the revoked partitions' queued
// records, waits for the workers to hand over what they are doing, lets the
// ledger store what is closed (the rest is read again by the next owner
// from the stored position) and commits the stored positions to Kafka.
func (s *Sampler) onRevoked(ctx context.Context, cl *kgo.Client, tps map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ledger != nil {
		s.handOver(ctx, cl, tps, true)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	if err := cl.CommitMarkedOffsets(cctx); err != nil {
		s.m.errors.WithLabelValues("commit").Inc()
		s.status.failed(s.now(), err)
		s.log.Warn("commit on revoke", "group", s.cfg.GroupID, "err", err)
	}
	if len(tps) == 0 {
		return
	}
	s.forget(tps)
	s.m.rebal.WithLabelValues("revoked").Inc()
	s.log.Info("partitions revoked", "partitions", countTPs(tps))
}

// onLost forgets partitions taken away without a chance to commit.
func (s *Sampler) onLost(ctx context.Context, cl *kgo.Client, tps map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ledger != nil {
		s.handOver(ctx, cl, tps, false)
	}
	s.forget(tps)
	s.m.rebal.WithLabelValues("lost").Inc()
	s.log.Warn("partitions lost", "partitions", countTPs(tps))
}

// handOver gives up partitions with a ledger; s.mu held. Storing what is
// closed is safe even when another replica already owns them: the store
// accepts a range only from the position it holds.
func (s *Sampler) handOver(ctx context.Context, cl *kgo.Client, tps map[string][]int32, commit bool) {
	if len(tps) == 0 {
		return
	}
	for topic, parts := range tps {
		for _, p := range parts {
			if st := s.parts.get(topic, p); st != nil {
				st.live.Store(false)
			}
		}
	}
	s.barrier()
	s.ledger.Release(ctx, tps)
	if !commit {
		return
	}
	s.commitStoredSync(ctx, cl, tps)
	s.forget(tps)
	s.m.rebal.WithLabelValues("revoked").Inc()
	s.log.Info("partitions revoked", "partitions", countTPs(tps))
}

// forget drops partitions from the assigned set and their lag; s.mu held.
func (s *Sampler) forget(tps map[string][]int32) {
	gone := s.parts.remove(tps)
	for _, topic := range gone {
		s.m.lag.DeleteLabelValues(topic)
	}
	for topic := range tps {
		if _, ok := s.parts[topic]; ok {
			s.m.lag.WithLabelValues(topic).Set(float64(s.parts.topicLag(topic)))
		}
	}
	n := s.parts.count()
	s.assigned.Store(s.parts.list())
	s.m.partitions.Set(float64(n))
	s.status.assigned(n)
}

// onAutoCommit counts and logs failed background commits.
func (s *Sampler) onAutoCommit(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
	if err == nil {
		return
	}
	s.m.errors.WithLabelValues("commit").Inc()
	s.status.failed(s.now(), err)
	s.log.Warn("autocommit", "group", s.cfg.GroupID, "err", err)
}

func countTPs(tps map[string][]int32) int {
	n := 0
	for _, ps := range tps {
		n += len(ps)
	}
	return n
}
