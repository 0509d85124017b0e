package api

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/store"
)

// streamBuffer is how many examples a stream client may fall behind before
// it is dropped.
const streamBuffer = 1024

// Filter selects examples by rule, topic and services (nil: every service).
type Filter struct {
	Rule     string          // rule id; empty means every rule
	Topic    string          // topic; empty means every topic
	Services map[string]bool // source services (a team's or one); nil means all
}

// Match reports whether e passes f.
func (f *Filter) Match(e *store.Example) bool {
	return (f.Rule == "" || f.Rule == e.Rule) && (f.Topic == "" || f.Topic == e.Topic) &&
		(f.Services == nil || f.Services[e.Service])
}

// Subscription is one stream client: examples arrive on C until Gone is
// closed (the client fell behind and was dropped, or unsubscribed).
type Subscription struct {
	C      <-chan store.Example // matching examples, as they are audited
	Gone   <-chan struct{}      // closed when the subscription ends
	ch     chan store.Example
	gone   chan struct{}
	filter Filter
	once   sync.Once
}

func (s *Subscription) end() { s.once.Do(func() { close(s.gone) }) }

// live fans examples out to subscriptions. publish never blocks: a client
// whose buffer is full is dropped and counted, so a slow reader never slows
// the sampler.
type live struct {
	mu      sync.RWMutex
	subs    map[*Subscription]struct{}
	closed  bool // the server is stopping: new subscriptions end at once
	n       atomic.Int32
	clients prometheus.Gauge
	dropped prometheus.Counter
}

func newLive(reg prometheus.Registerer) *live {
	return &live{subs: map[*Subscription]struct{}{},
		clients: metrics.ViolationStreamClients.NewGaugeVec(reg).WithLabelValues(),
		dropped: metrics.ViolationStreamDropped.NewCounterVec(reg).WithLabelValues()}
}

// Subscribe starts a subscription with filter f; call Unsubscribe when done.
func (a *API) Subscribe(f Filter) *Subscription {
	s := &Subscription{ch: make(chan store.Example, streamBuffer), gone: make(chan struct{}), filter: f}
	s.C, s.Gone = s.ch, s.gone
	l := a.live
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		s.end()
		return s
	}
	l.subs[s] = struct{}{}
	l.n.Store(int32(len(l.subs)))
	l.clients.Set(float64(len(l.subs)))
	l.mu.Unlock()
	return s
}

// Unsubscribe ends s.
func (a *API) Unsubscribe(s *Subscription) { a.live.remove(s) }

func (l *live) remove(s *Subscription) bool {
	l.mu.Lock()
	_, ok := l.subs[s]
	delete(l.subs, s)
	l.n.Store(int32(len(l.subs)))
	l.clients.Set(float64(len(l.subs)))
	l.mu.Unlock()
	s.end()
	return ok
}

// close ends every subscription (shutdown), so streams let the HTTP server
// stop.
func (l *live) close() {
	l.mu.Lock()
	l.closed = true
	subs := l.subs
	l.subs = map[*Subscription]struct{}{}
	l.n.Store(0)
	l.clients.Set(0)
	l.mu.Unlock()
	for s := range subs {
		s.end()
	}
}

// publish offers exs to every matching subscription without waiting.
func (l *live) publish(exs []store.Example) {
	if len(exs) == 0 || l.n.Load() == 0 {
		return
	}
	var slow []*Subscription
	l.mu.RLock()
	for s := range l.subs {
		if !s.offer(exs) {
			slow = append(slow, s)
		}
	}
	l.mu.RUnlock()
	for _, s := range slow {
		if l.remove(s) {
			l.dropped.Inc()
		}
	}
}

// offer sends the matching examples; false when the buffer is full.
func (s *Subscription) offer(exs []store.Example) bool {
	for i := range exs {
		if !s.filter.Match(&exs[i]) {
			continue
		}
		select {
		case s.ch <- exs[i]:
		default:
			return false
		}
	}
	return true
}
