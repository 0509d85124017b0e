package wait

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper()                      {}
func (r *fatalRecorder) Fatalf(f string, args ...any) { r.msg = f }

func TestForReturnsOnceTrue(t *testing.T) {
	var n atomic.Int32
	For(t, "three polls", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Fatalf("polled %d times", n.Load())
	}
}

func TestWithinFailsAfterDeadline(t *testing.T) {
	r := &fatalRecorder{TB: t}
	start := time.Now()
	Within(r, 100*time.Millisecond, "never", func() bool { return false })
	if r.msg == "" || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("msg %q after %s", r.msg, time.Since(start))
	}
}

func TestCheck(t *testing.T) {
	var n atomic.Int32
	CheckEvery(context.Background(), t, time.Millisecond, "ok on the third", func() error {
		if n.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	r := &fatalRecorder{TB: t}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	CheckEvery(ctx, r, time.Millisecond, "never", func() error { return errors.New("no") })
	if r.msg == "" {
		t.Fatal("Check did not fail when ctx ended")
	}
}

func TestWithinEvery(t *testing.T) {
	var n atomic.Int32
	WithinEvery(t, time.Minute, time.Millisecond, "three polls", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Fatalf("polled %d times", n.Load())
	}
	r := &fatalRecorder{TB: t}
	WithinEvery(r, 50*time.Millisecond, time.Millisecond, "never", func() bool { return false })
	if r.msg != "timed out after %s waiting for %s" {
		t.Fatalf("msg %q", r.msg)
	}
}

func TestDescribeEvery(t *testing.T) {
	var n atomic.Int32
	DescribeEvery(t, time.Minute, time.Millisecond, func() string { return "unused" }, func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Fatalf("polled %d times", n.Load())
	}
	r := &fatalRecorder{TB: t}
	DescribeEvery(r, 50*time.Millisecond, time.Millisecond, func() string { return "reached " + fmt.Sprint(n.Load()) }, func() bool { return false })
	if r.msg != "timed out after %s waiting for %s" {
		t.Fatalf("msg %q", r.msg)
	}
}
