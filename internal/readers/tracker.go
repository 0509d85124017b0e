package readers

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventwatch/eventwatch/internal/event"
)

// DefaultRetirementWindow is how long a version must go unproduced before
// it can be retired, unless readers.retirement_window says otherwise.
const DefaultRetirementWindow = 7 * 24 * time.Hour

// Config is the `readers:` section.
type Config struct {
	// RetirementWindow: a version no producer emitted for this long (and
	// whose every reader also reads a newer version) can be retired.
	RetirementWindow time.Duration `yaml:"retirement_window"`
}

// SetDefaults fills every zero field with its default.
func (c *Config) SetDefaults() {
	if c.RetirementWindow == 0 {
		c.RetirementWindow = DefaultRetirementWindow
	}
}

// Validate reports every invalid field with its path under `readers`.
func (c *Config) Validate() error {
	var errs []error
	if c.RetirementWindow < time.Second {
		errs = append(errs, fmt.Errorf("readers.retirement_window: must be at least 1s, got %s", c.RetirementWindow))
	}
	return errors.Join(errs...)
}

// Tracker is one replica's part: the consumption index (an event.Sink
// fed with every audited record, joined with committed offsets on the
// leader) and the idempotency checker (fed with closed chains).
type Tracker struct {
	cfg     Config
	Index   *Index
	Checker *Checker

	mu       sync.Mutex
	baseStat []TypeStats // what an earlier process of this replica published (Resume)
	baseIdem []Idempotency
	resumed  atomic.Uint64 // moved by Resume (Generation)
}

// Generation changes whenever Document may have changed (the index's,
// the checker's or the resumed base): an unchanged generation, read before
// a Document, means the same Document for the same arguments.
func (t *Tracker) Generation() uint64 {
	return t.resumed.Load() + t.Index.Generation() + t.Checker.Generation() // each only grows
}

// Resume continues from the document an earlier process of this replica
// published (same share.replica_id): its type stats and idempotency
// verdicts are the base this process adds to, its positions are indexed
// again and, when it led, its readers' last reads are kept. Call it once,
// before this process publishes.
func (t *Tracker) Resume(doc ReplicaDoc) {
	t.mu.Lock()
	t.baseStat, t.baseIdem = doc.Stats, doc.Idempotency
	t.mu.Unlock()
	t.resumed.Add(1)
	t.Index.ImportPositions(doc.Positions)
	t.Index.RestoreReaders(doc.Readers)
}

// New returns a tracker; isDLQ names the dead-letter topics (see NewIndex).
func New(cfg Config, isDLQ func(topic string) bool, reg prometheus.Registerer) (*Tracker, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validate readers config: %w", err)
	}
	t := &Tracker{cfg: cfg, Index: NewIndex(isDLQ)}
	t.Checker = NewChecker(t.Index.GroupFor, t.Index.Rewound, reg)
	return t, nil
}

// Observe indexes one audited record (event.Sink).
func (t *Tracker) Observe(rec *event.Record, res *event.Result) { t.Index.Observe(rec, res) }

// ObserveChain judges one closed chain's causation.
func (t *Tracker) ObserveChain(ch Chain) { t.Checker.Observe(ch) }

// Window is the retirement window in force.
func (t *Tracker) Window() time.Duration { return t.cfg.RetirementWindow }

// Document is this replica's shared document: with positions, where types
// occurred on its partitions (for the leader's join, and for a restart to
// resume from); the leader adds the readers its joins found.
func (t *Tracker) Document(leader, positions bool) ReplicaDoc {
	t.mu.Lock()
	baseStat, baseIdem := t.baseStat, t.baseIdem
	t.mu.Unlock()
	doc := ReplicaDoc{Stats: MergeStats(baseStat, t.Index.Stats()), Idempotency: MergeIdempotency(baseIdem, t.Checker.Results()), Overflow: t.Index.Overflow()}
	if positions {
		doc.Positions, doc.PositionsLeftOut = t.Index.ExportPositions()
	}
	if !leader {
		return doc
	}
	doc.Leader, doc.CommitsAt, doc.Rewinds = true, t.Index.JoinedAt(), t.Index.Rewinds()
	doc.Readers = map[string][]Reader{}
	for k, rs := range t.Index.Readers() {
		doc.Readers[readerKey(k)] = rs
	}
	return doc
}

// Idempotency is this replica's idempotency verdicts, as its Document
// has them.
func (t *Tracker) Idempotency() []Idempotency {
	t.mu.Lock()
	baseIdem := t.baseIdem
	t.mu.Unlock()
	return MergeIdempotency(baseIdem, t.Checker.Results())
}

// Assemble is the estate-wide answer from every replica's document: type
// stats and idempotency verdicts add up, readers come from the leader's
// document with the newest join.
func Assemble(docs []ReplicaDoc, now time.Time, window time.Duration) Estate {
	stats := make([][]TypeStats, 0, len(docs))
	idem := make([][]Idempotency, 0, len(docs))
	var lead *ReplicaDoc
	overflow := map[string]int64{}
	for i := range docs {
		d := &docs[i]
		stats = append(stats, d.Stats)
		idem = append(idem, d.Idempotency)
		if d.Leader && (lead == nil || d.CommitsAt.After(lead.CommitsAt)) {
			lead = d
		}
		for k, v := range d.Overflow {
			overflow[k] += v
		}
		if d.PositionsLeftOut > 0 {
			overflow["shared_positions"] += int64(d.PositionsLeftOut)
		}
	}
	readers := map[TypeKey][]Reader{}
	var at time.Time
	var rewinds []Rewind
	if lead != nil {
		for k, rs := range lead.Readers {
			readers[keyOf(k)] = rs
		}
		at, rewinds = lead.CommitsAt, lead.Rewinds
	}
	e := Build(MergeStats(stats...), readers, MergeIdempotency(idem...), now, window)
	e.CommitsAt, e.Rewinds = at, rewinds
	if len(overflow) > 0 {
		e.Overflow = overflow
	}
	return e
}
