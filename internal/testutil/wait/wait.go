// Package wait polls a condition in tests until it holds or a deadline
// passes, failing the test with what was awaited. It is the one copy of the
// wait/poll loop the package tests share (sample, share, leader, daemon,
// exactly, e2e).
package wait

import (
	"context"
	"testing"
	"time"
)

// Default is the deadline of For.
const Default = 30 * time.Second

// interval is how often a condition is polled.
const interval = 20 * time.Millisecond

// For polls cond until it holds, failing the test after Default.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Default, what, cond)
}

// Within polls cond until it holds, failing the test after d.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	Describe(t, d, func() string { return what }, cond)
}

// WithinEvery is Within polling every every instead of every 20ms: for
// conditions that cost a request to another process (the e2e suite).
func WithinEvery(t testing.TB, d, every time.Duration, what string, cond func() bool) {
	t.Helper()
	describeEvery(t, d, every, func() string { return what }, cond)
}

// Describe is Within with a description computed at the timeout (e.g. the
// value reached so far).
func Describe(t testing.TB, d time.Duration, what func() string, cond func() bool) {
	t.Helper()
	describeEvery(t, d, interval, what, cond)
}

// DescribeEvery is Describe polling every every instead of every 20ms.
func DescribeEvery(t testing.TB, d, every time.Duration, what func() string, cond func() bool) {
	t.Helper()
	describeEvery(t, d, every, what, cond)
}

func describeEvery(t testing.TB, d, every time.Duration, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what())
			return
		}
		<-tick.C
	}
}

// Check retries check every 500ms until it returns nil, failing the test
// with the last error when ctx ends first (the e2e suite's wait).
func Check(ctx context.Context, t testing.TB, what string, check func() error) {
	t.Helper()
	CheckEvery(ctx, t, 500*time.Millisecond, what, check)
}

// CheckEvery is Check polling every every.
func CheckEvery(ctx context.Context, t testing.TB, every time.Duration, what string, check func() error) {
	t.Helper()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), err)
			return
		case <-tick.C:
		}
	}
}
