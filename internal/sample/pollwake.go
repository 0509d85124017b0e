package sample

import (
	"context"
	"sync"
	"time"
)

// pollWait bounds one poll of an idle estate: the poll loop's own work
// (commits of stored positions, the topics count of the status) runs at
// least this often. A poll returns as soon as records arrive, and a rewind
// wakes it (pollWaker), so the bound only sets how often an idle sampler
// wakes: each poll that ends empty wakes the client's fetch manager and
// sources too, a handful of wake-ups a second at a one-second bound.
const pollWait = 5 * time.Second

// pausedPollWait bounds a poll while fetching is paused (full report
// buffer): the loop then looks every second whether a flush made room.
const pausedPollWait = time.Second

// pollWaitFor is how long the next poll may wait: pollWait, at most the
// commit interval when the ledger's positions are committed from the loop,
// pausedPollWait while paused.
func (s *Sampler) pollWaitFor(paused bool) time.Duration {
	switch {
	case s.ledger == nil:
		return pollWait
	case paused:
		return pausedPollWait
	default:
		return min(pollWait, s.cfg.CommitInterval)
	}
}

// pollWaker ends the poll in progress early when another goroutine hands
// the poll loop work (a rewind): arm before the poll, disarm after; a wake
// between two polls ends the next one at once.
type pollWaker struct {
	mu      sync.Mutex
	cancel  context.CancelFunc // the armed poll's; nil between polls
	pending bool               // woken between polls
}

// arm makes wake end the poll whose context cancel cancels; a wake that
// came since the last poll cancels it now.
func (w *pollWaker) arm(cancel context.CancelFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending {
		w.pending = false
		cancel()
		return
	}
	w.cancel = cancel
}

// disarm ends the armed poll's turn.
func (w *pollWaker) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel = nil
}

// wake ends the armed poll, or the next one when none is armed.
func (w *pollWaker) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
		return
	}
	w.pending = true
}
