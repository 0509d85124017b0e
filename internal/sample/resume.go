package sample

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/store"
)

// resumeTimeout bounds reading the stored positions when partitions are
// assigned; past it the sampler starts from the group's Kafka commits (which
// never run ahead of the store) and the store's fence corrects the rest.
const resumeTimeout = 8 * time.Second

// barrierTimeout bounds waiting for the audit workers to finish the
// records of revoked or rewound partitions.
const barrierTimeout = 5 * time.Second

// Option configures a Sampler.
type Option func(*Sampler)

// WithLedger makes the sampler account for positions through l (exactly-once
// report counts; internal/ledger describes the protocol). Without it the sampler commits every polled batch to
// Kafka, which is at-least-once.
func WithLedger(l ledger.Accounts) Option {
	return func(s *Sampler) { s.ledger = l }
}

// RecordTimes takes note of the records the sampler fetched, every one of
// them (sampled for audit or not), partition by partition in offset order.
// *lag.SeenTimes satisfies it: the lag collector takes committed offsets'
// record timestamps from there instead of fetching them again.
// NoteRecords is called on the poll goroutine and must not block or keep
// the records.
type RecordTimes interface {
	NoteRecords(topic string, partition int32, recs []*kgo.Record)
}

// WithRecordTimes hands every fetched partition's records to rt.
func WithRecordTimes(rt RecordTimes) Option {
	return func(s *Sampler) { s.times = rt }
}

// Stored takes note of positions the ledger stored; the poll loop commits
// them to Kafka every commit_interval. It implements ledger.Listener.
func (s *Sampler) Stored(ps []store.Position) {
	s.posMu.Lock()
	defer s.posMu.Unlock()
	for _, p := range ps {
		if s.stored[p.Topic] == nil {
			s.stored[p.Topic] = map[int32]int64{}
		}
		s.stored[p.Topic][p.Partition] = p.Offset
		s.moved[topicPart{p.Topic, p.Partition}] = struct{}{}
	}
}

// Rewind asks the poll loop to read a partition again from offset (the
// store holds another position than this replica expected). It implements
// ledger.Listener and never blocks.
func (s *Sampler) Rewind(topic string, partition int32, offset int64) {
	s.posMu.Lock()
	defer s.posMu.Unlock()
	if s.rewinds[topic] == nil {
		s.rewinds[topic] = map[int32]int64{}
	}
	s.rewinds[topic][partition] = offset
	s.waker.wake() // applied before the next poll, not after an idle one
}

// adjustOffsets places newly assigned partitions and starts the ledger's
// accounting for each (startOf says where).
func (s *Sampler) adjustOffsets(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	stored := s.storedPositions(ctx)
	offsets, _ = s.adjustStart(ctx, offsets)
	b := s.assignedBounds(ctx, offsets)
	var first []store.Position
	s.mu.Lock()
	defer s.mu.Unlock()
	for topic, parts := range offsets {
		for p, o := range parts {
			from, isNew := s.startOf(ctx, topic, p, o, stored, b)
			if isNew && from >= 0 {
				first = append(first, store.Position{Topic: topic, Partition: p, Offset: from})
			}
			if from >= 0 {
				parts[p] = kgo.NewOffset().At(from).WithEpoch(-1)
			}
			if st := s.parts.get(topic, p); st != nil {
				st.pos = from
			}
			s.ledger.Acquire(topic, p, from)
		}
	}
	s.storeFirst(ctx, first)
	return offsets, nil
}

// startOf is where an assigned partition starts (-1: where franz-go's
// offset o says, the first Advance tells the ledger), and whether its
// position is stored for the first time:
//
//   - at its stored position, reset first when it does not match the log
//     (checkPosition);
//   - else at the group's Kafka commit (another replica with its own store
//     read it);
//   - else where the group's first start placed it (start_from);
//   - else, once the group is watching, at its log start: a partition seen
//     for the first time is new traffic;
//   - else (the store unreadable) as start_from says at this start
//     (adjustStart).
func (s *Sampler) startOf(ctx context.Context, topic string, p int32, o kgo.Offset, stored map[string]map[int32]int64, b bounds) (int64, bool) {
	if pos, ok := stored[topic][p]; ok {
		return s.checkPosition(ctx, topic, p, pos, b), false
	}
	if stored == nil {
		return -1, false
	}
	if off := o.EpochOffset().Offset; off >= 0 && o != s.cfg.compiled.start {
		return s.checkPosition(ctx, topic, p, off, b), true
	}
	if pos, ok := s.firsts.get(topic, p); ok {
		return s.checkPosition(ctx, topic, p, pos, b), true
	}
	if s.watching.Load() {
		start, ok := b.start.get(topic, p)
		if !ok {
			return -1, false // log start unknown: franz-go's start (the log start) and the first Advance
		}
		return start, true
	}
	return -1, false
}

// storeFirst stores the positions of partitions seen for the first time;
// on failure the first Advance of each stores it instead.
func (s *Sampler) storeFirst(ctx context.Context, ps []store.Position) {
	if len(ps) == 0 {
		return
	}
	ictx, cancel := context.WithTimeout(ctx, resumeTimeout)
	defer cancel()
	if err := s.ledger.Init(ictx, ps); err != nil {
		s.log.Warn("positions of newly seen partitions not stored; their first range stores them", "partitions", len(ps), "err", err)
	}
}

// storedPositions reads the ledger's positions, retrying for a few seconds
// while the store is unreachable; nil when it stays so.
func (s *Sampler) storedPositions(ctx context.Context) map[string]map[int32]int64 {
	ctx, cancel := context.WithTimeout(ctx, resumeTimeout)
	defer cancel()
	backoff := 250 * time.Millisecond
	for {
		ps, err := s.ledger.Positions(ctx)
		if err == nil {
			return ps
		}
		select {
		case <-ctx.Done():
			s.m.errors.WithLabelValues("resume").Inc()
			s.log.Warn("stored positions unreadable; resuming from the group's Kafka commits, the store's fence discards anything counted twice", "err", err)
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// applyRewinds reads again, from the stored position, every partition the
// ledger asked for; s.mu held. Records of the old read still queued are
// dropped (their partState is retired) before the ledger starts again.
func (s *Sampler) applyRewinds(cl *kgo.Client) {
	s.posMu.Lock()
	rw := s.rewinds
	s.rewinds = map[string]map[int32]int64{}
	s.posMu.Unlock()
	readAgain(s, cl, rw, func(topic string, p int32, off int64) int64 {
		s.log.Info("reading a partition again from its stored position", "topic", topic, "partition", p, "offset", off)
		return off
	})
}

// readAgain makes the sampler read each assigned partition of parts again
// from the offset at gives it (a rewind to the stored position, a reset
// after a mismatch); s.mu held. The partition's old read state is retired
// and its queued records dropped (behind a barrier) before at is asked,
// then the ledger starts again at that offset and the client fetches from
// there.
func readAgain[V any](s *Sampler, cl *kgo.Client, parts map[string]map[int32]V, at func(topic string, p int32, v V) int64) {
	set := map[string]map[int32]kgo.EpochOffset{}
	for topic, ps := range parts {
		for p, v := range ps {
			st := s.parts.get(topic, p)
			if st == nil {
				continue
			}
			st.live.Store(false)
			s.barrier(s.shard(topic, p))
			off := at(topic, p, v)
			fresh := newPartState()
			fresh.pos = off
			s.parts[topic][p] = fresh
			s.ledger.Acquire(topic, p, off)
			if set[topic] == nil {
				set[topic] = map[int32]kgo.EpochOffset{}
			}
			set[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: off}
		}
	}
	if len(set) > 0 {
		cl.SetOffsets(set)
	}
}

// commitStored commits to Kafka the stored positions of assigned
// partitions that moved since the last commit (asynchronously).
func (s *Sampler) commitStored(cl *kgo.Client) {
	todo := s.uncommitted(nil)
	if len(todo) == 0 {
		return
	}
	cl.CommitOffsets(context.Background(), todo, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		s.onAutoCommit(nil, nil, nil, err)
		if err == nil {
			s.markCommitted(todo)
		}
	})
}

// commitStoredSync commits the stored positions of tps and waits (on
// revoke, so the next owner's Kafka lag starts right).
func (s *Sampler) commitStoredSync(ctx context.Context, cl *kgo.Client, tps map[string][]int32) {
	todo := s.uncommitted(tps)
	if len(todo) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	var cerr error
	cl.CommitOffsetsSync(cctx, todo, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) { cerr = err })
	if cerr != nil {
		s.onAutoCommit(nil, nil, nil, cerr)
		return
	}
	s.markCommitted(todo)
}

// topicPart names one partition (the key of moved and of leaders).
type topicPart struct {
	topic     string
	partition int32
}

// uncommitted lists stored positions not yet committed, of tps or (nil)
// of every assigned partition. Only partitions stored since their last
// commit (moved) are looked at.
func (s *Sampler) uncommitted(tps map[string][]int32) map[string]map[int32]kgo.EpochOffset {
	s.posMu.Lock()
	defer s.posMu.Unlock()
	out := map[string]map[int32]kgo.EpochOffset{}
	if len(s.moved) == 0 {
		return out
	}
	if tps == nil {
		tps = s.assignedTPs()
	}
	for k := range s.moved {
		off, ok := s.stored[k.topic][k.partition]
		if !ok || s.committed[k.topic][k.partition] == off || !slices.Contains(tps[k.topic], k.partition) {
			continue
		}
		if out[k.topic] == nil {
			out[k.topic] = map[int32]kgo.EpochOffset{}
		}
		out[k.topic][k.partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
	}
	return out
}

// assignedTPs lists the assigned partitions (a copy kept for commits).
func (s *Sampler) assignedTPs() map[string][]int32 {
	v, _ := s.assigned.Load().(map[string][]int32)
	return v
}

func (s *Sampler) markCommitted(done map[string]map[int32]kgo.EpochOffset) {
	s.posMu.Lock()
	defer s.posMu.Unlock()
	for topic, parts := range done {
		if s.committed[topic] == nil {
			s.committed[topic] = map[int32]int64{}
		}
		for p, eo := range parts {
			s.committed[topic][p] = eo.Offset
			if s.stored[topic][p] == eo.Offset { // else stored again since the commit began: still moved
				delete(s.moved, topicPart{topic, p})
			}
		}
	}
}

// applyPause pauses fetching while the ledger is saturated (the store is
// down or slow and its buffer is full) and resumes it when a flush made
// room; s.mu not needed. It reports whether fetching is paused.
func (s *Sampler) applyPause(cl *kgo.Client) bool {
	sat := s.ledger.Saturated()
	was := s.status.get().Paused
	switch {
	case sat:
		cl.PauseFetchTopics(cl.GetConsumeTopics()...)
		if !was {
			s.log.Warn("report buffer full (store unavailable or slow): fetching paused, nothing dropped; the sampler falls behind until a flush succeeds")
		}
	case was:
		cl.ResumeFetchTopics(cl.PauseFetchTopics()...)
		s.log.Info("report buffer has room again: fetching resumed")
	}
	s.status.paused(sat)
	if sat {
		s.m.paused.Set(1)
	} else {
		s.m.paused.Set(0)
	}
	return sat
}
