package sample

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/store"
)

// boundsTimeout bounds listing the log start and end offsets of newly
// assigned partitions.
const boundsTimeout = 5 * time.Second

// assignedBounds lists the log start and end of the partitions in offsets;
// empty when Kafka does not answer in time (positions are then taken as
// stored; a mismatch is still caught while reading, noteMismatch).
func (s *Sampler) assignedBounds(ctx context.Context, offsets map[string]map[int32]kgo.Offset) bounds {
	b := bounds{start: endOffsets{}, end: endOffsets{}}
	if s.adm == nil || len(offsets) == 0 {
		return b
	}
	topics := make([]string, 0, len(offsets))
	for t := range offsets {
		topics = append(topics, t)
	}
	adm, release, err := s.adm.acquire()
	if err != nil {
		return b
	}
	defer release()
	lctx, cancel := context.WithTimeout(ctx, boundsTimeout)
	defer cancel()
	got, err := listBounds(lctx, adm, topics...)
	if err != nil {
		s.log.Warn("list log start and end of assigned partitions", "err", err)
		return b
	}
	return got
}

// checkPosition returns where an assigned partition with stored position
// pos resumes: pos when it lies within the log, else the place
// sample.on_position_mismatch names, after storing the reset (resetTo).
func (s *Sampler) checkPosition(ctx context.Context, topic string, p int32, pos int64, b bounds) int64 {
	start, okS := b.start.get(topic, p)
	end, okE := b.end.get(topic, p)
	if !okS || !okE || (pos >= start && pos <= end) {
		return pos
	}
	return s.resetTo(ctx, topic, p, pos, start, end)
}

// resetTo resets a stored position pos outside [start, end] as
// sample.on_position_mismatch says, records the range (report note,
// counters, a WARN line) and returns the new position. When the store
// cannot be told, the partition still resumes at the new place; its first
// flush then conflicts and reads again from the stored position, where
// the mismatch is found again.
func (s *Sampler) resetTo(ctx context.Context, topic string, p int32, pos, start, end int64) int64 {
	n := store.PositionNote{Topic: topic, Partition: p, From: pos, At: s.now()}
	reason := ReasonBelowStart
	n.Kind = store.NoteBelowStart
	if pos > end {
		reason, n.Kind = ReasonBeyondEnd, store.NoteBeyondEnd
	}
	n.To = start
	if s.cfg.OnPositionMismatch == MismatchEnd {
		n.To = end
	}
	switch {
	case pos < start: // records [pos, start) are gone; with "end", [start, end) too
		n.Records = n.To - pos
	case n.To == end: // beyond the end, reset to the end: what the log holds is skipped
		n.Records = end - start
	}
	rctx, cancel := context.WithTimeout(ctx, resumeTimeout)
	defer cancel()
	if _, err := s.ledger.Reset(rctx, n); err != nil {
		s.log.Warn("position reset not stored", "topic", topic, "partition", p, "err", err)
	}
	s.m.resets.WithLabelValues(reason).Inc()
	if n.Records > 0 {
		s.m.unaudited.WithLabelValues(reason).Add(float64(n.Records))
	}
	s.log.Warn("stored position does not match the partition's log: reset (sample.on_position_mismatch)",
		"topic", topic, "partition", p, "stored_offset", pos, "log_start_offset", start, "end_offset", end,
		"reason", reason, "reset_to", n.To, "records_not_audited", n.Records, "on_position_mismatch", s.cfg.OnPositionMismatch)
	return n.To
}

// noteMismatch schedules a reset when a fetch shows that a partition's
// position no longer matches its log while it is read (the topic was
// deleted and recreated under the running sampler, or retention overtook
// it) and reports whether it did; s.mu held. applyResets carries it out
// on the poll loop; the fetch's records are not audited meanwhile.
func (s *Sampler) noteMismatch(topic string, p int32, st *partState, fp *kgo.FetchPartition) bool {
	if s.ledger == nil || st.pos < 0 || fp.HighWatermark < 0 {
		return false
	}
	start := max(fp.LogStartOffset, 0)
	if st.pos <= fp.HighWatermark && (fp.LogStartOffset < 0 || st.pos >= fp.LogStartOffset) {
		return false
	}
	s.posMu.Lock()
	defer s.posMu.Unlock()
	if s.resets[topic] == nil {
		s.resets[topic] = map[int32][3]int64{}
	}
	s.resets[topic][p] = [3]int64{st.pos, start, fp.HighWatermark}
	return true
}

// applyResets resets the partitions noteMismatch found; s.mu held. Their
// queued records are dropped (the partState is retired) first.
func (s *Sampler) applyResets(ctx context.Context, cl *kgo.Client) {
	s.posMu.Lock()
	rs := s.resets
	s.resets = map[string]map[int32][3]int64{}
	s.posMu.Unlock()
	readAgain(s, cl, rs, func(topic string, p int32, r [3]int64) int64 { return s.resetTo(ctx, topic, p, r[0], r[1], r[2]) })
}

// pausedLagEvery is how often the lag gauge is refreshed from listed end
// offsets while fetching is paused (no fetch brings high watermarks then).
const pausedLagEvery = 2 * time.Second

// refreshLag lists the end offsets of the assigned partitions and sets
// eventwatch_sampler_lag_records from them and what was read (or the
// stored position), so the gauge stays true while fetching is paused.
func (s *Sampler) refreshLag(ctx context.Context) {
	if s.adm == nil {
		return
	}
	s.mu.Lock()
	topics := make([]string, 0, len(s.parts))
	for t := range s.parts {
		topics = append(topics, t)
	}
	s.mu.Unlock()
	if len(topics) == 0 {
		return
	}
	adm, release, err := s.adm.acquire()
	if err != nil {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, boundsTimeout)
	ends, err := adm.ListEndOffsets(lctx, topics...)
	cancel()
	release()
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ends.Each(func(o kadm.ListedOffset) {
		if st := s.parts.get(o.Topic, o.Partition); st != nil && o.Err == nil {
			st.hwm = max(st.hwm, o.Offset)
		}
	})
	for _, t := range topics {
		if _, ok := s.parts[t]; ok {
			s.m.lag.WithLabelValues(t).Set(float64(s.parts.topicLag(t)))
		}
	}
}

// readdRecreated drops topics that were deleted and recreated under the
// sampler (their fetches fail with UNKNOWN_TOPIC_ID: franz-go keeps the old
// topic id) from the client; the regex subscription finds them again at
// the next metadata refresh, the group assigns them again, and the stored
// positions, now beyond the new partitions' ends, are reset at assignment
// (checkPosition).
func (s *Sampler) readdRecreated(cl *kgo.Client, topics map[string]struct{}) {
	if len(topics) == 0 {
		return
	}
	list := make([]string, 0, len(topics))
	for t := range topics {
		list = append(list, t)
	}
	s.log.Warn("topics were deleted and recreated under the sampler: re-reading them as new topics (their stored positions are checked against the new logs)", "topics", list)
	cl.PurgeTopicsFromClient(list...)
}
