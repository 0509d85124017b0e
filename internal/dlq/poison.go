package dlq

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/recordmetrics"
)

// Pill is the record that blocks a stalled partition: the one at the
// group's committed offset, which the group's members own but do not get
// past. Audited with the topic's profile, it says why it likely fails and
// who produced it.
type Pill struct {
	Group      string            `json:"group"`                // consumer group that is stuck
	Topic      string            `json:"topic"`                // topic of the partition
	Partition  int32             `json:"partition"`            // the stalled partition
	Offset     int64             `json:"offset"`               // the committed offset: the record the group does not get past
	EventID    string            `json:"event_id,omitempty"`   // its event id
	EventType  string            `json:"event_type,omitempty"` // its event type
	Service    string            `json:"source_service"`       // its producing service ("unknown" when it names none)
	Rules      []string          `json:"failing_rules"`        // the rules it breaks (empty: it audits clean; the cause is in the consumer)
	Violations []event.Violation `json:"violations"`           // the violations, with their reasons (never payload values)
	Since      time.Time         `json:"since"`                // when eventwatch first saw the partition stalled at this offset
	Error      string            `json:"error,omitempty"`      // why the record could not be read, when it could not
}

// pillKey identifies a stalled partition of a group.
type pillKey struct {
	group, topic string
	partition    int32
}

// Poison finds the blocking record of every STALL partition (owned, the
// committed offset not moving while data waits) after each lag cycle: it
// reads the record at the committed offset once per offset, audits it, and
// keeps the result until the partition moves on.
type Poison struct {
	opts    []kgo.Opt
	auditor Auditor
	fetch   func(ctx context.Context, opts []kgo.Opt, topic string, p int32, o int64) (*event.Record, error)

	mu    sync.RWMutex
	pills map[pillKey]Pill
	cycle int64
}

// NewPoison builds the finder; reg (the leader term's registry) gets
// eventwatch_consumer_poison_pill_offset and _rule.
func NewPoison(opts []kgo.Opt, auditor Auditor, reg prometheus.Registerer) *Poison {
	p := &Poison{opts: opts, auditor: auditor, fetch: FetchOne, pills: map[pillKey]Pill{}}
	if reg != nil {
		reg.MustRegister(&pillCollector{p: p})
	}
	return p
}

// stalled is the STALL predicate of a partition: owned, offset not
// moving, data waiting (internal/lag's Status.Stalled).
func stalled(s lag.Status) bool { return s.Stalled() }

// Update looks at a new lag snapshot: a pill for every STALL partition
// (read and audited when its offset is new), none for the others. detail
// returns a group with its partitions (lag.Collector.GroupDetail); it is
// asked only for groups with a stalled partition (suspect).
func (p *Poison) Update(ctx context.Context, s *lag.Snapshot, detail func(string) (lag.GroupLag, bool)) {
	if s == nil || s.Cycle == p.lastCycle() {
		return
	}
	next := map[pillKey]Pill{}
	for i := range s.Groups {
		g := &s.Groups[i] // not a copy: a group with its topics is kilobytes, and 500 of them were copied each cycle
		if !suspect(g) {
			continue
		}
		if d, ok := detail(g.Group); ok {
			p.scan(ctx, d, s.Time, next)
		}
	}
	p.mu.Lock()
	p.pills, p.cycle = next, s.Cycle
	p.mu.Unlock()
}

// suspect: a group with a topic that has a STALL partition (its topic's
// status, or one of its findings: a topic's status is its worst
// partition's, so a STOP or ERR partition beside a STALL one hides it
// there). A group whose partitions are only stopped is not asked for its
// detail: at estate size most idle groups are STOP, and building every
// one's detail each cycle cost more than the rest of the leader's loops.
func suspect(g *lag.GroupLag) bool {
	for i := range g.Topics {
		t := &g.Topics[i]
		if stalled(t.Status) {
			return true
		}
		for j := range t.Findings {
			if f := &t.Findings[j]; stalled(f.Status) && f.Partitions > 0 {
				return true
			}
		}
	}
	return false
}

func (p *Poison) scan(ctx context.Context, g lag.GroupLag, at time.Time, next map[pillKey]Pill) {
	for _, t := range g.Topics {
		for _, pl := range t.Partitions {
			if stalled(pl.Status) && pl.Committed >= 0 {
				k := pillKey{g.Group, t.Topic, pl.Partition}
				next[k] = p.pillFor(ctx, k, pl.Committed, at)
			}
		}
	}
}

func (p *Poison) lastCycle() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cycle
}

// pillFor returns the known pill of k at offset, else reads and audits it.
func (p *Poison) pillFor(ctx context.Context, k pillKey, offset int64, at time.Time) Pill {
	p.mu.RLock()
	old, ok := p.pills[k]
	p.mu.RUnlock()
	if ok && old.Offset == offset && old.Error == "" {
		return old
	}
	pill := Pill{Group: k.group, Topic: k.topic, Partition: k.partition, Offset: offset, Since: at, Rules: []string{}, Violations: []event.Violation{}}
	if ok && old.Offset == offset {
		pill.Since = old.Since
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rec, err := p.fetch(fctx, p.opts, k.topic, k.partition, offset)
	if err != nil {
		pill.Error = err.Error()
		return pill
	}
	res := p.auditor.Check(rec)
	pill.EventID, pill.EventType, pill.Service = res.EventID, res.EventType, res.Source
	if pill.Service == "" {
		pill.Service = recordmetrics.ServiceUnknown
	}
	pill.Violations = append(pill.Violations, res.Violations...)
	for _, v := range res.Violations {
		if !slices.Contains(pill.Rules, v.Rule) {
			pill.Rules = append(pill.Rules, v.Rule)
		}
	}
	return pill
}

// Group returns the pills of group, by topic and partition.
func (p *Poison) Group(group string) []Pill {
	out := []Pill{}
	for _, pl := range p.All() {
		if pl.Group == group {
			out = append(out, pl)
		}
	}
	return out
}

// All returns every pill, by group, topic and partition.
func (p *Poison) All() []Pill {
	p.mu.RLock()
	out := make([]Pill, 0, len(p.pills))
	for _, pl := range p.pills {
		out = append(out, pl)
	}
	p.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})
	return out
}

// pillCollector exports the pills on scrape.
type pillCollector struct{ p *Poison }

func (c *pillCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- metrics.PoisonPillOffset.Desc()
	ch <- metrics.PoisonPillRule.Desc()
}

func (c *pillCollector) Collect(ch chan<- prometheus.Metric) {
	for _, pl := range c.p.All() {
		part := itoa(pl.Partition)
		ch <- prometheus.MustNewConstMetric(metrics.PoisonPillOffset.Desc(), prometheus.GaugeValue, float64(pl.Offset),
			pl.Group, pl.Topic, part, pl.Service)
		for _, r := range pl.Rules {
			ch <- prometheus.MustNewConstMetric(metrics.PoisonPillRule.Desc(), prometheus.GaugeValue, 1, pl.Group, pl.Topic, part, r)
		}
	}
}

func itoa(n int32) string { return strconv.FormatInt(int64(n), 10) }
