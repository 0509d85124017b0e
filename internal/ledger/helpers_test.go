package ledger

import (
	"github.com/eventwatch/eventwatch/internal/testutil/auditdata"

	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/store"
)

// clock is a settable time source for ledgers under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func openSQLite(t testing.TB, dir string) store.Store {
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

func newTestAggregator(t testing.TB, st store.Store, cfg store.Config, c *clock, opts ...Option) (*Ledger, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.SetDefaults()
	a := New(st, cfg, reg, nil, opts...)
	if c != nil {
		a.now = c.now
		a.lastSample = c.now()
	}
	return a, reg
}

// observation, dataset and expect: the shared synthetic data set
// (internal/testutil/auditdata).
type observation = auditdata.Observation

var (
	dataset = auditdata.Dataset
	expect  = auditdata.Expect
)

func observeAll(a *Ledger, obs []observation) {
	for i := range obs {
		a.Observe(&obs[i].Rec, &obs[i].Res)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	tests := []struct{ in, want string }{
		{"", "unknown"},
		{"orders", "orders"},
		{"a\x00b", "ab"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{long, strings.Repeat("é", 100)},
	}
	for _, tt := range tests {
		if got := clip(tt.in); got != tt.want || !utf8.ValidString(got) || len(got) > maxLabel {
			t.Errorf("clip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// mon17 is the Monday of ISO week 2026-W47.
var mon17 = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
