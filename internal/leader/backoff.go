package leader

import (
	"context"
	"time"
)

// backoff doubles a wait from min to max.
type backoff struct{ cur, max time.Duration }

func newBackoff(min, max time.Duration) *backoff { return &backoff{cur: min, max: max} }

// wait sleeps the current step or until ctx is done, then doubles the step.
func (b *backoff) wait(ctx context.Context) error {
	t := time.NewTimer(b.cur)
	defer t.Stop()
	b.cur = min(2*b.cur, b.max)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
