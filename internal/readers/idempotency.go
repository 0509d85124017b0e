package readers

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// Idempotency verdicts.
const (
	VerdictNotIdempotent = "not_idempotent" // a redelivered input made the group's service emit more events than one delivery does
	VerdictIdempotent    = "idempotent"     // every redelivered input seen made it emit no more than one delivery does
	VerdictNotObservable = "not_observable" // no redelivered input of the type reached the group, or its reaction was not seen
)

// Outcomes of a redelivered input (the outcome label of
// eventwatch_consumer_redelivered_inputs_total).
const (
	OutcomeDuplicateEffects = "duplicate_effects" // more downstream events than a single delivery gives
	OutcomeSingleEffect     = "single_effect"     // no more than a single delivery gives
)

// Bounds of a Checker: (group, type) pairs judged, examples kept per pair.
const (
	maxIdemPairs   = 1000
	maxIdemExample = 5
	maxBaselines   = 4000
)

// Event is one event of a closed chain as the idempotency check sees it:
// references and ids only.
type Event struct {
	ID        string
	Type      string
	Service   string
	Topic     string
	Partition int32
	Offset    int64
	Upstream  int // index of the event that caused it in the chain; -1 for none
}

// Chain is the causation of one closed chain (from internal/trace): its
// events with their causes, and the extra copies of event ids that reached
// it from other record positions (producer duplicates).
type Chain struct {
	Events      []Event
	Redelivered map[string]int
}

// Idempotency is the verdict on one consumer group and one event type.
type Idempotency struct {
	Group       string        `json:"group"`
	Type        string        `json:"event_type"`
	Service     string        `json:"service,omitempty"` // the consuming service whose events were counted
	Verdict     string        `json:"verdict"`
	Redelivered int64         `json:"redelivered"` // inputs delivered more than once whose reaction was seen
	Duplicated  int64         `json:"duplicated"`  // of which made the service emit more than one delivery does
	Examples    []IdemExample `json:"examples,omitempty"`
}

// IdemExample is one redelivered input and what the service emitted for it.
type IdemExample struct {
	EventID    string      `json:"event_id"`
	Topic      string      `json:"topic"`
	Partition  int32       `json:"partition"`
	Offset     int64       `json:"offset"`
	Deliveries int         `json:"deliveries"`
	How        string      `json:"how"` // producer_duplicate or rewind
	Effects    []EffectRef `json:"effects"`
	Expected   int         `json:"expected"` // downstream events one delivery gives
}

// EffectRef is a downstream event caused by a redelivered input.
type EffectRef struct {
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

type idemKey struct{ group, typ string }

type baseKey struct{ typ, service string }

type baseline struct{ causes, effects int64 }

// Checker judges consumer idempotency from closed chains: for every input
// delivered more than once — a producer duplicate (the same event id at
// another offset) or a rewind of the consuming group over its offset —
// it counts the downstream events the consuming service emitted caused by
// it, and compares with what one delivery of that type makes the service
// emit (measured on inputs delivered once; 1 until measured). More is
// not idempotent. Safe for concurrent use.
type Checker struct {
	groupFor func(service, topic string) string
	rewound  func(group, topic string, partition int32, offset int64) bool
	outcomes *prometheus.CounterVec

	mu       sync.Mutex
	base     map[baseKey]*baseline
	pairs    map[idemKey]*Idempotency
	overflow int64
	gen      atomic.Uint64 // moved (under mu) by every chain judged (Generation)
}

// Generation changes whenever Results may have changed.
func (c *Checker) Generation() uint64 { return c.gen.Load() }

// NewChecker returns a checker. groupFor names the consumer group through
// which a service reads a topic; rewound reports whether that group's
// committed offset was seen moving back over a record (nil: never).
func NewChecker(groupFor func(service, topic string) string, rewound func(group, topic string, partition int32, offset int64) bool,
	reg prometheus.Registerer,
) *Checker {
	if rewound == nil {
		rewound = func(string, string, int32, int64) bool { return false }
	}
	return &Checker{groupFor: groupFor, rewound: rewound, outcomes: metrics.ConsumerRedeliveredInputs.NewCounterVec(reg),
		base: map[baseKey]*baseline{}, pairs: map[idemKey]*Idempotency{}}
}

// Observe judges one closed chain.
func (c *Checker) Observe(ch Chain) {
	effects := effectsByCause(ch.Events)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for i, byService := range effects {
		cause := &ch.Events[i]
		for service, out := range byService {
			c.judge(cause, service, out, ch.Redelivered[cause.ID])
		}
	}
}

// effectsByCause maps each cause (by index) to the events other services
// emitted because of it, by service.
func effectsByCause(evs []Event) map[int]map[string][]EffectRef {
	out := map[int]map[string][]EffectRef{}
	for _, e := range evs {
		u := e.Upstream
		if u < 0 || u >= len(evs) || evs[u].Service == e.Service || evs[u].ID == "" {
			continue
		}
		if out[u] == nil {
			out[u] = map[string][]EffectRef{}
		}
		out[u][e.Service] = append(out[u][e.Service], EffectRef{EventID: e.ID, EventType: e.Type, Topic: e.Topic, Partition: e.Partition, Offset: e.Offset})
	}
	return out
}

func (c *Checker) judge(cause *Event, service string, out []EffectRef, dups int) {
	group := c.groupFor(service, cause.Topic)
	deliveries, how := 1+dups, "producer_duplicate"
	if c.rewound(group, cause.Topic, cause.Partition, cause.Offset) {
		deliveries++
		if dups == 0 {
			how = "rewind"
		}
	}
	bk := baseKey{cause.Type, service}
	b := c.base[bk]
	if deliveries == 1 {
		if b == nil && len(c.base) < maxBaselines {
			b = &baseline{}
			c.base[bk] = b
		}
		if b != nil {
			b.causes++
			b.effects += int64(len(out))
		}
		return
	}
	p := c.pair(group, cause.Type, service)
	if p == nil {
		return
	}
	expected := b.perDelivery()
	p.Redelivered++
	outcome := OutcomeSingleEffect
	if len(out) > expected {
		outcome = OutcomeDuplicateEffects
		p.Duplicated++
		p.Verdict = VerdictNotIdempotent
		if len(p.Examples) < maxIdemExample {
			p.Examples = append(p.Examples, example(cause, deliveries, how, expected, out))
		}
	} else if p.Verdict != VerdictNotIdempotent {
		p.Verdict = VerdictIdempotent
	}
	c.outcomes.WithLabelValues(group, cause.Type, outcome).Inc()
}

// perDelivery is the downstream events one delivery gives: the rounded
// mean over inputs delivered once, at least 1; 1 when none was seen.
func (b *baseline) perDelivery() int {
	if b == nil || b.causes == 0 {
		return 1
	}
	return max(int((b.effects+b.causes/2)/b.causes), 1)
}

func (c *Checker) pair(group, typ, service string) *Idempotency {
	k := idemKey{group, typ}
	p := c.pairs[k]
	if p == nil {
		if len(c.pairs) >= maxIdemPairs {
			c.overflow++
			return nil
		}
		p = &Idempotency{Group: group, Type: typ, Service: service}
		c.pairs[k] = p
	}
	return p
}

func example(cause *Event, deliveries int, how string, expected int, effects []EffectRef) IdemExample {
	return IdemExample{EventID: cause.ID, Topic: cause.Topic, Partition: cause.Partition, Offset: cause.Offset,
		Deliveries: deliveries, How: how, Expected: expected, Effects: effects}
}

// Results returns the verdicts with evidence, sorted by group and type.
func (c *Checker) Results() []Idempotency {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Idempotency, 0, len(c.pairs))
	for _, p := range c.pairs {
		cp := *p
		cp.Examples = append([]IdemExample(nil), p.Examples...)
		out = append(out, cp)
	}
	sortIdem(out)
	return out
}

func sortIdem(s []Idempotency) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Group != s[j].Group {
			return s[i].Group < s[j].Group
		}
		return s[i].Type < s[j].Type
	})
}

// MergeIdempotency adds up several replicas' verdicts: counts add, a pair
// is not idempotent when any replica saw it, examples are kept up to the
// bound.
func MergeIdempotency(all ...[]Idempotency) []Idempotency {
	by := map[idemKey]*Idempotency{}
	for _, list := range all {
		for _, p := range list {
			k := idemKey{p.Group, p.Type}
			cur := by[k]
			if cur == nil {
				cp := p
				cp.Examples = append([]IdemExample(nil), p.Examples...)
				by[k] = &cp
				continue
			}
			cur.Redelivered += p.Redelivered
			cur.Duplicated += p.Duplicated
			if p.Verdict == VerdictNotIdempotent || cur.Verdict == "" {
				cur.Verdict = p.Verdict
			}
			for _, x := range p.Examples {
				if len(cur.Examples) < maxIdemExample {
					cur.Examples = append(cur.Examples, x)
				}
			}
		}
	}
	out := make([]Idempotency, 0, len(by))
	for _, p := range by {
		out = append(out, *p)
	}
	sortIdem(out)
	return out
}

// Message is the one-line finding for a pair that is not idempotent.
func (p *Idempotency) Message() string {
	msg := fmt.Sprintf("group %s is not idempotent for %s: %d of %d redelivered inputs made %s emit duplicate downstream events",
		p.Group, p.Type, p.Duplicated, p.Redelivered, p.Service)
	if len(p.Examples) > 0 {
		x := p.Examples[0]
		ids := make([]string, len(x.Effects))
		for i, e := range x.Effects {
			ids[i] = e.EventID
		}
		msg += fmt.Sprintf(" (e.g. event %s at %s/%d@%d delivered %d times by %s: %d events %s, one delivery gives %d)",
			x.EventID, x.Topic, x.Partition, x.Offset, x.Deliveries, strings.ReplaceAll(x.How, "_", " "), len(x.Effects), strings.Join(ids, ", "), x.Expected)
	}
	return msg
}
