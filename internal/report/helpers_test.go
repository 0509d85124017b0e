package report

import (
	"github.com/eventwatch/eventwatch/internal/testutil/auditdata"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/store"
)

// testAgg is the ledger that fills the store reports are built from.
type testAgg struct {
	*ledger.Ledger
}

func newTestAggregator(t testing.TB, st store.Store, cfg store.Config, c *storetest.Clock, opts ...ledger.Option) (*testAgg, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.SetDefaults()
	if c != nil {
		opts = append(opts, ledger.WithClock(c.Now))
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
