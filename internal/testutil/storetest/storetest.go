// Package storetest has the fixtures of the tests of the packages built on
// the store (internal/ledger, internal/report, internal/api): a settable
// clock to drive a ledger's hours with, and a SQLite store opened in a
// test's directory and closed when the test ends.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// Clock is a settable time source, safe for concurrent use: pass its Now
// as the clock of what the test drives and move it with Set.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the time the clock was set to.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// OpenSQLite opens the default (SQLite) store in dir with the default
// settings; the test fails if it cannot, and the store is closed when the
// test ends.
func OpenSQLite(t testing.TB, dir string) store.Store {
	t.Helper()
	cfg := store.Config{}
	cfg.SetDefaults()
	st, err := store.Open(context.Background(), cfg, dir, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// OpenDSN opens the PostgreSQL store at dsn with the default settings; the
// test fails if it cannot, and the store is closed when the test ends.
func OpenDSN(t testing.TB, dsn string) store.Store {
	t.Helper()
	cfg := store.Config{DSN: dsn}
	cfg.SetDefaults()
	st, err := store.Open(context.Background(), cfg, "", nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
