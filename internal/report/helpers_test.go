package report

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"fmt"
	"math/rand/v2"
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

// expected computes, straight from the observations, what the report must
// say: the /metrics definitions (checked, compliant = no error-severity
// violation, violations per rule) per topic, per service and per rule.
type expected struct {
	checked, compliant, violations int64
	topic                          map[string][2]int64 // checked, compliant
	service                        map[string][2]int64
	rule                           map[string]int64
}

func expect(obs []observation) expected {
	e := expected{topic: map[string][2]int64{}, service: map[string][2]int64{}, rule: map[string]int64{}}
	for _, o := range obs {
		ok := int64(1)
		for _, v := range o.res.Violations {
			e.rule[v.Rule]++
			e.violations++
			if v.Severity == event.SeverityError {
				ok = 0
			}
		}
		svc := o.res.Source
		if svc == "" {
			svc = "unknown"
		}
		e.checked++
		e.compliant += ok
		e.topic[o.rec.Topic] = [2]int64{e.topic[o.rec.Topic][0] + 1, e.topic[o.rec.Topic][1] + ok}
		e.service[svc] = [2]int64{e.service[svc][0] + 1, e.service[svc][1] + ok}
	}
	return e
}

func mustWrite(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func observeAll(a *testAgg, obs []observation) {
	for i := range obs {
		a.Observe(&obs[i].rec, &obs[i].res)
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
