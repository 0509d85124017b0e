package trace

import "time"

// sweeper is the clock of the stitcher's sweeps: a ticker that stops while
// the state is idle (the last sweep found nothing a later one could close,
// forget or commit) and starts again with the next message, so an estate
// without traffic does not wake the stitcher every second.
type sweeper struct {
	every   time.Duration
	tick    *time.Ticker
	running bool
}

func newSweeper(every time.Duration) *sweeper {
	return &sweeper{every: every, tick: time.NewTicker(every), running: true}
}

// c is the channel a sweep is due on; it never fires while stopped.
func (w *sweeper) c() <-chan time.Time { return w.tick.C }

// swept stops the ticker when the sweep found the state idle.
func (w *sweeper) swept(idle bool) {
	if idle && w.running {
		w.tick.Stop() // no stale tick is received after Stop (Go 1.23 timers)
		w.running = false
	}
}

// wake starts the ticker again after a message changed the state.
func (w *sweeper) wake() {
	if !w.running {
		w.tick.Reset(w.every)
		w.running = true
	}
}

func (w *sweeper) stop() { w.tick.Stop() }
