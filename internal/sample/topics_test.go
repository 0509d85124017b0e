package sample

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/recordmetrics"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// listings returns how many topic listings the sampler made and how many
// client metadata refreshes it asked for.
func (s *Sampler) listings() (listed, forced int) {
	s.topics.mu.Lock()
	defer s.topics.mu.Unlock()
	return s.topics.listed, s.topics.forced
}

// borrowed returns how many listings the sampler took from its topic
// source.
func (s *Sampler) borrowed() int {
	s.topics.mu.Lock()
	defer s.topics.mu.Unlock()
	return s.topics.borrowed
}

// On a cluster whose topics do not change, the sampler lists them every
// metadata_refresh and its client does not refresh every topic's metadata
// on top: the all-topics Metadata requests the cluster answers are the
// listings (plus the client's first), not twice as many. TopicNames
// serves the listing.
func TestSamplerListsTopicsWithoutClientRefresh(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(2, "orders", "payments"))
	all := kfaketest.CountAllTopicsMetadata(c)
	h := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	h.waitAssigned(4)
	wait.For(t, "first listing", func() bool { l, _ := h.s.listings(); return l >= 1 })
	l0, _ := h.s.listings()
	a0 := all.Load()
	wait.For(t, "five more listings", func() bool { l, _ := h.s.listings(); return l >= l0+5 })
	l1, forced := h.s.listings()
	a1 := all.Load()
	if extra := (a1 - a0) - int64(l1-l0); extra > 1 {
		t.Errorf("%d all-topics Metadata requests during %d listings: the client refreshed every topic's metadata %d times on top, want at most 1", a1-a0, l1-l0, extra)
	}
	if forced != 0 {
		t.Errorf("asked the client to refresh %d times, topics never changed", forced)
	}
	names, ok := h.s.TopicNames(time.Minute)
	if !ok || !slices.Equal(names, []string{"orders", "payments"}) {
		t.Errorf("TopicNames = %v, %v; want [orders payments], true", names, ok)
	}
	if _, ok := h.s.TopicNames(0); ok {
		t.Error("TopicNames(0) served a listing older than 0s")
	}
}

// Partitions added to a sampled topic are assigned and read from their
// first record, though the client itself refreshes metadata only every
// few minutes: the listing sees the new partition count.
func TestSamplerPicksUpNewPartitions(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "grow"))
	h := newHarness(t, c, testConfig(), &fakeAuditor{}).start()
	h.waitAssigned(1)

	pr := manualProducer(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(pr).CreatePartitions(ctx, 2, "grow")
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("add partitions: %v", err)
	}
	h.waitAssigned(3)
	produce(t, pr, rec("grow", 2, `{"event_id":"a"}`), rec("grow", 1, `{"event_id":"b"}`))
	h.waitValue("eventwatch_records_observed_total", map[string]string{"topic": "grow"}, 2)
	if _, forced := h.s.listings(); forced == 0 {
		t.Error("the new partitions were assigned without the listing asking for a refresh")
	}
}

// With a topic source that has a fresh listing (the lag collector's, on
// the leader), the sampler sends no all-topics Metadata request of its
// own, still picks up a topic the source lists, and lists the topics
// itself once the source has none.
func TestSamplerTakesListingFromTopicSource(t *testing.T) {
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "first"))
	all := kfaketest.CountAllTopicsMetadata(c)
	var mu sync.Mutex
	listing, fresh := map[string]int{"first": 1}, true
	src := func(maxAge time.Duration) (map[string]int, time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		if maxAge != time.Second {
			t.Errorf("asked for a listing younger than %s, want metadata_refresh (1s)", maxAge)
		}
		return listing, time.Now(), fresh
	}
	reg := prometheus.NewRegistry()
	base := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	s, err := New(testConfig(), base, &fakeAuditor{}, []event.Sink{recordmetrics.NewCounters(reg, 10)}, reg, nil, WithTopicSource(src))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, c: c, reg: reg, s: s}
	h.start()
	h.waitAssigned(1)
	wait.For(t, "a listing taken from the source", func() bool { return s.borrowed() >= 1 })
	a0, b0 := all.Load(), s.borrowed()
	wait.For(t, "three more", func() bool { return s.borrowed() >= b0+3 })
	if n := all.Load() - a0; n > 1 {
		t.Errorf("%d all-topics Metadata requests while the source had fresh listings, want at most 1 (the client's own)", n)
	}
	if listed, _ := s.listings(); listed != 0 {
		t.Errorf("the sampler listed the topics itself %d times while the source had fresh listings", listed)
	}

	pr := manualProducer(t, c)
	createTopic(t, pr, "late", 1)
	mu.Lock()
	listing = map[string]int{"first": 1, "late": 1}
	mu.Unlock()
	h.waitAssigned(2)
	produce(t, pr, rec("late", 0, `{"event_id":"a"}`))
	h.waitValue("eventwatch_records_observed_total", map[string]string{"topic": "late"}, 1)

	mu.Lock()
	fresh = false
	mu.Unlock()
	wait.For(t, "the sampler listing the topics itself", func() bool { l, _ := s.listings(); return l >= 1 })
	if names, ok := s.TopicNames(time.Minute); !ok || !slices.Equal(names, []string{"first", "late"}) {
		t.Errorf("TopicNames = %v, %v; want [first late]", names, ok)
	}
}
