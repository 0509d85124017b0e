package api

import (
	"github.com/eventwatch/eventwatch/internal/testutil/auditdata"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/ledger"
	"github.com/eventwatch/eventwatch/internal/store"
)

// mon17 is Monday 16 November 2026 00:00 UTC, the start of 2026-W47 (the
// name is kept from the report package's tests the data sets come from).
var mon17 = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

// testAgg is the pair the daemon wires: the ledger that fills the store
// and the report API that reads it.
type testAgg struct {
	*ledger.Ledger
	*API
}

func newTestAggregator(t testing.TB, st store.Store, cfg store.Config, c *storetest.Clock, opts ...ledger.Option) (*testAgg, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.SetDefaults()
	var apiOpts []APIOption
	if c != nil {
		apiOpts = append(apiOpts, WithClock(c.Now))
		opts = append(opts, ledger.WithClock(c.Now))
	}
	api := NewAPI(st, reg, nil, apiOpts...)
	opts = append(opts, ledger.WithExamples(api.Publish))
	return &testAgg{Ledger: ledger.New(st, cfg, reg, nil, opts...), API: api}, reg
}

// observation and dataset: the shared synthetic data set
// (internal/testutil/auditdata).
type observation = auditdata.Observation

var dataset = auditdata.Dataset

func observeAll(a *testAgg, obs []observation) {
	for i := range obs {
		a.Observe(&obs[i].Rec, &obs[i].Res)
	}
}
