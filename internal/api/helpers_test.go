package api

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"fmt"
	"math/rand/v2"
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

// mon17 is Monday 16 November 2026 00:00 UTC, the start of 2026-W47 (the
// name is kept from the report package's tests the data sets come from).
var mon17 = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

// testAgg is the pair the daemon wires: the ledger that fills the store
// and the report API that reads it.
type testAgg struct {
	*ledger.Ledger
	*API
}

func newTestAggregator(t testing.TB, st store.Store, cfg store.Config, c *clock, opts ...ledger.Option) (*testAgg, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.SetDefaults()
	var apiOpts []APIOption
	if c != nil {
		apiOpts = append(apiOpts, WithClock(c.now))
		opts = append(opts, ledger.WithClock(c.now))
	}
	api := NewAPI(st, reg, nil, apiOpts...)
	opts = append(opts, ledger.WithExamples(api.Publish))
	return &testAgg{Ledger: ledger.New(st, cfg, reg, nil, opts...), API: api}, reg
}

// observation is one audited record of a synthetic data set.
type observation struct {
	rec event.Record
	res event.Result
}

var (
	testServices = []string{"orders", "billing", "shipping", ""}
	testRules    = []struct {
		rule string
		sev  event.Severity
	}{
		{"envelope.missing_field", event.SeverityError},
		{"naming.event_type", event.SeverityError},
		{"trace.missing_context", event.SeverityWarning},
		{"key.missing", event.SeverityWarning},
	}
)

// dataset generates n audited records from seed: services, topics, event
// types and violations vary; roughly a third of the records break rules.
func dataset(seed uint64, n int, at time.Time) []observation {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]observation, n)
	for i := range out {
		svc := testServices[r.IntN(len(testServices))]
		topic := fmt.Sprintf("%s.events", svc)
		if svc == "" {
			topic = "legacy.events"
		}
		o := observation{
			rec: event.Record{Topic: topic, Partition: int32(r.IntN(3)), Offset: int64(i), Timestamp: at.Add(time.Duration(i) * time.Second),
				Value: []byte(`{"secret":"PAYLOAD-MARKER-7f3a"}`)},
			res: event.Result{Source: svc, EventType: fmt.Sprintf("%s.thing.happened.v%d", svc, 1+r.IntN(2)), EventID: fmt.Sprintf("evt-%d", i)},
		}
		for _, rule := range testRules {
			if r.IntN(6) == 0 {
				o.res.Violations = append(o.res.Violations, event.Violation{Rule: rule.rule, Severity: rule.sev, Message: "field data.x breaks " + rule.rule, Field: "data.x"})
			}
		}
		out[i] = o
	}
	return out
}

func observeAll(a *testAgg, obs []observation) {
	for i := range obs {
		a.Observe(&obs[i].rec, &obs[i].res)
	}
}
