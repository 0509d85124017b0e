package sample

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/eventwatch/eventwatch/internal/store"
)

// Reasons of eventwatch_sampler_unaudited_records_total and
// eventwatch_sampler_position_resets_total.
const (
	ReasonHistory    = "history"     // produced before eventwatch first started watching (start_from)
	ReasonBeyondEnd  = "beyond_end"  // a stored position beyond the partition's end
	ReasonBelowStart = "below_start" // a stored position below the partition's log start
)

// bounds are the log start and end offsets of partitions.
type bounds struct{ start, end endOffsets }

// listBounds lists the log start and end offsets of topics' partitions.
func listBounds(ctx context.Context, adm *kadm.Client, topics ...string) (bounds, error) {
	b := bounds{start: endOffsets{}, end: endOffsets{}}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return b, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return b, fmt.Errorf("list end offsets: %w", err)
	}
	starts.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset >= 0 {
			b.start.set(o.Topic, o.Partition, o.Offset)
		}
	})
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset >= 0 {
			b.end.set(o.Topic, o.Partition, o.Offset)
		}
	})
	return b, nil
}

// beginWatching settles, before the sampler joins its group, where
// partitions without a stored position start. When the ledger's group has
// started watching already, such a partition is new (a topic or partition
// that appeared since) and is read from its log start. Otherwise this is
// eventwatch's first start: every watched partition gets the position
// start_from gives it, stored with the history skipped (counted once:
// report note, eventwatch_sampler_unaudited_records_total{reason="history"},
// one log line). When the store cannot say, the sampler falls back to the
// start-time snapshot (adjustStart) and reports false.
func (s *Sampler) beginWatching(ctx context.Context) bool {
	rctx, cancel := context.WithTimeout(ctx, resumeTimeout)
	type watch struct {
		started bool
		firsts  map[string]map[int32]int64
	}
	w, err := retry(rctx, func() (watch, error) {
		started, firsts, err := s.ledger.Started(rctx)
		return watch{started, firsts}, err
	})
	stored := s.storedPositions(rctx)
	cancel()
	if err != nil || stored == nil {
		s.log.Warn("watch start unreadable; partitions without a stored position start as start_from says at this start", "err", err)
		return false
	}
	if w.started {
		s.firsts = w.firsts
		return true
	}
	ps, notes, ok := s.firstPositions(ctx, stored)
	if !ok {
		return false // ctx done
	}
	wctx, cancel := context.WithTimeout(ctx, resumeTimeout)
	defer cancel()
	first, err := retry(wctx, func() (bool, error) { return s.ledger.Start(wctx, ps, notes) })
	if err != nil {
		s.log.Warn("first start could not be stored; partitions without a stored position start as start_from says at this start", "err", err)
		return false
	}
	if !first { // another replica came first: use what it stored
		return s.beginWatching(ctx)
	}
	s.firsts = endOffsets{}
	for _, p := range ps {
		s.firsts.set(p.Topic, p.Partition, p.Offset)
	}
	s.noteHistory(notes, len(ps))
	return true
}

// firstPositions lists, retrying while Kafka does not answer, where
// start_from places every watched partition without a stored position (a
// group upgraded from a version without first starts keeps what it
// stored), and the history that skips; false when ctx ends first.
func (s *Sampler) firstPositions(ctx context.Context, stored map[string]map[int32]int64) ([]store.Position, []store.PositionNote, bool) {
	backoff := time.Second
	for {
		lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		ps, notes, err := s.listFirstPositions(lctx, stored)
		cancel()
		if err == nil {
			return ps, notes, true
		}
		s.m.errors.WithLabelValues("connect").Inc()
		if s.status.failed(s.now(), err) {
			s.log.Warn("first start: list offsets; retrying", "err", err, "retry_in", backoff)
		}
		select {
		case <-ctx.Done():
			return nil, nil, false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// listFirstPositions makes one attempt of firstPositions.
func (s *Sampler) listFirstPositions(ctx context.Context, stored map[string]map[int32]int64) ([]store.Position, []store.PositionNote, error) {
	adm, release, err := s.adm.acquire()
	if err != nil {
		return nil, nil, err
	}
	defer release()
	var at endOffsets
	switch s.cfg.StartFrom {
	case StartLatest:
		at, err = s.startingOffsets(ctx, adm, s.created.UnixMilli())
	case StartEarliest:
		at, err = s.startingOffsets(ctx, adm, 0)
	default:
		t, _ := time.Parse(time.RFC3339, s.cfg.StartFrom)
		at, err = s.startingOffsets(ctx, adm, t.UnixMilli())
	}
	if err != nil {
		return nil, nil, err
	}
	b, err := listBounds(ctx, adm, at.topics()...)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	var ps []store.Position
	var notes []store.PositionNote
	for topic, parts := range at {
		for p, off := range parts {
			if _, ok := stored[topic][p]; ok {
				continue
			}
			if s.cfg.StartFrom == StartEarliest {
				off = min(off, b.start[topic][p])
			}
			ps = append(ps, store.Position{Topic: topic, Partition: p, Offset: off})
			if start, ok := b.start.get(topic, p); ok && off > start {
				notes = append(notes, store.PositionNote{Topic: topic, Partition: p, Kind: store.NoteHistorySkipped,
					From: start, To: off, Records: off - start, At: now})
			}
		}
	}
	return ps, notes, nil
}

// noteHistory counts and logs, once, the history the first start skipped.
func (s *Sampler) noteHistory(notes []store.PositionNote, partitions int) {
	var n int64
	for _, x := range notes {
		n += x.Records
	}
	s.m.unaudited.WithLabelValues(ReasonHistory).Add(float64(n))
	s.log.Info("eventwatch started watching the estate: records produced before this first start are not audited (sample.start_from); everything produced from now on is, new topics and partitions included",
		"start_from", s.cfg.StartFrom, "history_records", n, "partitions_with_history", len(notes), "partitions", partitions)
}

// retry calls f until it succeeds or ctx is done (backoff 250ms..2s).
func retry[T any](ctx context.Context, f func() (T, error)) (T, error) {
	backoff := 250 * time.Millisecond
	for {
		v, err := f()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
