package sample

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/kafka"
)

// clientMetadataMaxAge is how old the sampling client lets its own
// metadata grow when nothing asks it to refresh sooner (franz-go's
// default). The sampler lists the topics itself every
// sample.metadata_refresh (watchTopics) and makes the client refresh only
// when what it consumes differs from that list; a partition whose leader
// moved makes the client refresh on its own (its fetch fails).
const clientMetadataMaxAge = 5 * time.Minute

// TopicSource is another component's listing of the cluster's topics
// (topic -> partitions, internal ones left out, topics with a load error
// left out) and when it was made; false when it has none younger than
// maxAge. On the leader the lag collector lists every topic each cycle.
type TopicSource func(maxAge time.Duration) (partitions map[string]int, at time.Time, ok bool)

// WithTopicSource makes the sampler take its topic listing from src when
// src has one younger than sample.metadata_refresh, and list the topics
// itself only when it has none.
func WithTopicSource(src TopicSource) Option {
	return func(s *Sampler) { s.topicSource = src }
}

// topicList is the sampler's latest listing of the cluster's topics.
type topicList struct {
	mu       sync.Mutex
	names    []string // every topic but internal ones, sorted
	at       time.Time
	listed   int // listings the sampler made since Run began
	borrowed int // listings taken from the topic source
	forced   int // client metadata refreshes asked for
}

// TopicNames returns the cluster's topics (internal ones left out) as
// the sampler last listed them, when that listing is younger than maxAge;
// false when there is none (not yet listed, or Kafka has not answered
// since). Another component that needs every topic's name (the DLQ
// triage) takes them from here instead of asking Kafka for every
// partition's metadata once more. The slice is shared: do not modify it.
func (s *Sampler) TopicNames(maxAge time.Duration) ([]string, bool) {
	s.topics.mu.Lock()
	defer s.topics.mu.Unlock()
	if s.topics.names == nil || s.now().Sub(s.topics.at) > maxAge {
		return nil, false
	}
	return s.topics.names, true
}

// watchTopics lists the cluster's topics every sample.metadata_refresh
// with one Metadata request sent to a broker directly (its answer does
// not enter the client's cache) and makes the client refresh its own
// metadata — which rejoins the group with new topics and partitions —
// only when the listing shows a sampled topic or partition the client
// does not consume, or a consumed topic that is gone. A regex consumer
// refreshing every topic's metadata on its own every
// sample.metadata_refresh costs that refresh (every partition's leader,
// replicas and epochs merged into the client) whether or not anything
// changed: at 50,000 partitions ≈ 25 ms of CPU and 17 MB of garbage per
// 15 s, the largest thing the sampler did on an idle estate.
func (s *Sampler) watchTopics(ctx context.Context, cl *kgo.Client) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // a listing in flight ends with polling, not at its timeout
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(s.cfg.MetadataRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		lctx, cancel := context.WithTimeout(ctx, s.cfg.MetadataRefresh)
		listed, err := s.listTopics(lctx, cl)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Debug("list topics", "err", err)
			}
			continue
		}
		if why := s.unlike(cl, listed); why != "" {
			s.log.Info("topics changed; refreshing the sampling client's metadata", "change", why)
			s.topics.mu.Lock()
			s.topics.forced++
			s.topics.mu.Unlock()
			cl.ForceMetadataRefresh()
		}
	}
}

// listTopics lists every topic without a load error (internal ones left
// out) with its partition count — the topic source's listing when it has
// a fresh one, else its own — and keeps the names for TopicNames.
func (s *Sampler) listTopics(ctx context.Context, cl *kgo.Client) (map[string]int, error) {
	if s.topicSource != nil {
		if listed, at, ok := s.topicSource(s.cfg.MetadataRefresh); ok {
			s.keepNames(slices.Sorted(maps.Keys(listed)), at, true)
			return listed, nil
		}
	}
	meta, err := kafka.Metadata(ctx, cl)
	if err != nil {
		return nil, err
	}
	listed := make(map[string]int, len(meta.Topics))
	names := make([]string, 0, len(meta.Topics))
	for _, t := range meta.Topics {
		if t.Topic == nil || t.IsInternal {
			continue
		}
		names = append(names, *t.Topic)
		if kerr.ErrorForCode(t.ErrorCode) == nil {
			listed[*t.Topic] = len(t.Partitions)
		}
	}
	slices.Sort(names)
	s.keepNames(names, s.now(), false)
	return listed, nil
}

// keepNames keeps a listing's topic names for TopicNames.
func (s *Sampler) keepNames(names []string, at time.Time, borrowed bool) {
	s.topics.mu.Lock()
	defer s.topics.mu.Unlock()
	s.topics.names, s.topics.at = names, at
	if borrowed {
		s.topics.borrowed++
	} else {
		s.topics.listed++
	}
}

// unlike says how the client's consumption differs from listed (topic →
// partitions): a sampled topic it does not consume, a partition of one it
// has not loaded, or a topic it consumes that is not listed; "" when it
// consumes what is listed. The client's own state is the reference, so a
// change the client missed (a topic created between its first metadata
// and the first listing) is caught at the next listing.
func (s *Sampler) unlike(cl *kgo.Client, listed map[string]int) string {
	consumed := cl.GetConsumeTopics()
	have := make(map[string]struct{}, len(consumed))
	for _, t := range consumed {
		have[t] = struct{}{}
		if _, ok := listed[t]; !ok {
			return "topic " + t + " is gone"
		}
	}
	for t, n := range listed {
		if !s.cfg.WantTopic(t) {
			continue
		}
		if _, ok := have[t]; !ok {
			return "new topic " + t
		}
		if n == 0 {
			continue
		}
		if leader, _, err := cl.PartitionLeader(t, int32(n-1)); leader < 0 && err == nil {
			return "new partitions of " + t
		}
	}
	return ""
}
