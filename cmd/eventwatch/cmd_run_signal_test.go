package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestForwardSignal: SIGHUP becomes a reload request, and the process is
// not terminated by it.
func TestForwardSignal(t *testing.T) {
	reload := make(chan struct{}, 1)
	stop := forwardSignal(syscall.SIGHUP, reload)
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reload:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGHUP did not arrive as a reload request")
	}
}
