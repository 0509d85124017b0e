package report

import (
	"github.com/eventwatch/eventwatch/internal/testutil/auditdata"

	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/store"
)

// clock is a settable time source for aggregators under test.
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

// testAgg is the ledger that fills the store reports are built from.
type testAgg struct {
	*ledger.Ledger
}

func newTestAggregator(t testing.TB, st store.Store, cfg store.Config, c *clock, opts ...ledger.Option) (*testAgg, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.SetDefaults()
	if c != nil {
		opts = append(opts, ledger.WithClock(c.now))
	}
	return &testAgg{Ledger: ledger.New(st, cfg, reg, nil, opts...)}, reg
}

// observation, dataset and expect: the shared synthetic data set
// (internal/testutil/auditdata).
type observation = auditdata.Observation

var (
	dataset = auditdata.Dataset
	expect  = auditdata.Expect
)

func mustWrite(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func observeAll(a *testAgg, obs []observation) {
	for i := range obs {
		a.Observe(&obs[i].Rec, &obs[i].Res)
	}
}

// storedName is the name the ledger stores for a record's service: the
// empty one becomes "unknown" (the data sets use only short names).
func storedName(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
