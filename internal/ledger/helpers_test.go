package ledger

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"context"
	"fmt"
	"math/rand/v2"
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

func observeAll(a *Ledger, obs []observation) {
	for i := range obs {
		a.Observe(&obs[i].rec, &obs[i].res)
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
