package sample

import (
	"context"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/ledger"
)

// nopAccounts stands for a ledger where only its presence matters.
type nopAccounts struct{ ledger.Accounts }

// TestPollWakerEndsThePoll: a wake ends the armed poll's context; a wake
// between two polls ends the next poll as soon as it is armed, once; a
// disarmed poll is not cancelled by a later wake.
func TestPollWakerEndsThePoll(t *testing.T) {
	var w pollWaker
	poll := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		w.arm(cancel)
		return ctx, cancel
	}

	ctx, cancel := poll()
	if ctx.Err() != nil {
		t.Fatal("a poll armed without a wake is cancelled")
	}
	w.wake()
	if ctx.Err() == nil {
		t.Fatal("wake did not end the armed poll")
	}
	w.disarm()
	cancel()

	w.wake() // between polls
	ctx, cancel = poll()
	if ctx.Err() == nil {
		t.Fatal("a wake between polls did not end the next poll")
	}
	w.disarm()
	cancel()

	ctx, cancel = poll() // the pending wake was used up
	if ctx.Err() != nil {
		t.Fatal("one wake ended two polls")
	}
	w.disarm()
	w.wake()
	if ctx.Err() != nil {
		t.Fatal("a wake after disarm cancelled the finished poll")
	}
	cancel()
}

// TestPollWaitFor: an idle sampler polls every pollWait, at most every
// commit interval when it commits the ledger's positions, every
// pausedPollWait while paused.
func TestPollWaitFor(t *testing.T) {
	s := &Sampler{}
	s.cfg.CommitInterval = 2 * time.Second
	if got := s.pollWaitFor(false); got != pollWait {
		t.Fatalf("without a ledger: %s, want %s", got, pollWait)
	}
	s.ledger = nopAccounts{}
	if got := s.pollWaitFor(false); got != 2*time.Second {
		t.Fatalf("with a ledger, commit interval 2s: %s, want 2s", got)
	}
	if got := s.pollWaitFor(true); got != pausedPollWait {
		t.Fatalf("paused: %s, want %s", got, pausedPollWait)
	}
}
