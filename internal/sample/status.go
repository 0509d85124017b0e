package sample

import (
	"sync"
	"time"
)

// Status is a snapshot of the sampler's health, for /readyz.
type Status struct {
	Running            bool      // Run is polling
	AssignedPartitions int       // partitions this replica currently reads
	Topics             int       // topics matched by the filters (cluster-wide)
	Generation         int32     // consumer group generation; -1 when not in the group
	LastPoll           time.Time // when a poll last returned (at least every 5 s while running, every second while paused)
	LastRecord         time.Time // when a poll last returned records
	LastError          string    // the last poll or commit error; empty when none yet
	LastErrorAt        time.Time // when LastError happened
	Paused             bool      // fetching is paused because the report buffer is full (store unavailable)
}

// Status returns the current health snapshot.
func (s *Sampler) Status() Status { return s.status.get() }

// statusBox guards the Status snapshot.
type statusBox struct {
	mu sync.Mutex
	s  Status
}

func (b *statusBox) get() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s
}

func (b *statusBox) polled(now time.Time, gotRecords bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.Running = true
	b.s.LastPoll = now
	if gotRecords {
		b.s.LastRecord = now
	}
}

// failed records err and reports whether it differs from the previous one
// (so callers log a failure once, not once per poll).
func (b *statusBox) failed(now time.Time, err error) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	msg := err.Error()
	changed := msg != b.s.LastError
	b.s.LastError, b.s.LastErrorAt = msg, now
	return changed
}

func (b *statusBox) paused(p bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.Paused = p
}

func (b *statusBox) assigned(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.AssignedPartitions = n
}

func (b *statusBox) topics(n int, gen int32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.Topics, b.s.Generation = n, gen
}

func (b *statusBox) stopped() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s.Running = false
	b.s.AssignedPartitions = 0
	b.s.Generation = -1
}

// WantTopic reports whether the sampler samples topic (its include and
// exclude filters).
func (s *Sampler) WantTopic(topic string) bool { return s.cfg.WantTopic(topic) }
