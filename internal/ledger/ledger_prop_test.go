package ledger

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"

	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/store"
)

// flakyStore fails writes on demand: down (nothing written), or lostAck
// (written, but the caller is told it failed — a commit whose
// acknowledgement was lost).
type flakyStore struct {
	store.Store
	down, lostAck bool
}

func (f *flakyStore) Write(ctx context.Context, b *store.Batch) error {
	if f.down {
		return errors.New("store down")
	}
	if f.lostAck {
		if err := f.Store.Write(ctx, b); err != nil {
			return err
		}
		return errors.New("connection reset after commit")
	}
	return f.Store.Write(ctx, b)
}

// simSampler plays the sampler's part for one replica: a read cursor per
// owned partition, rewinds applied before the next read.
type simSampler struct {
	agg     *Ledger
	cursor  map[int32]int64
	rewinds map[int32]int64
}

func (s *simSampler) Stored([]store.Position) {}

func (s *simSampler) Rewind(_ string, p int32, off int64) { s.rewinds[p] = off }

func (s *simSampler) applyRewinds() {
	for p, off := range s.rewinds {
		if _, owned := s.cursor[p]; owned {
			s.cursor[p] = off
			s.agg.Acquire(propTopic, p, off)
		}
	}
	clear(s.rewinds)
}

const (
	propTopic      = "t"
	propPartitions = 3
	propLogLen     = 60
)

// propResult is what the record at offset o of partition p audits to:
// compliant, or an error of rule r.bad every third record. Every record
// has an event id: the records at offsets o%4 == 1 carry the same id on
// every partition (producer duplicates: one copy owns the id, the others
// are duplicate.event_id), every other record an id of its own.
func propResult(p int32, o int64) *event.Result {
	res := &event.Result{Source: "svc", EventType: "e.v1", EventID: "x"}
	if o%3 == 0 {
		res.Violations = []event.Violation{{Rule: "r.bad", Severity: event.SeverityError}}
	}
	id := uint64(p+1)<<32 | uint64(o)
	if o%4 == 1 {
		id = uint64(o)
	}
	res.IDCheck = event.IDCheck{Hash: id*0x9e3779b97f4a7c15 | 1, Loc: uint64(p+1)<<32 | uint64(o), At: propTime,
		Severity: event.SeverityWarning, Field: "event_id"}
	return res
}

// propTime is the record time of every record of the property tests.
var propTime = time.Now()

// propDuplicates is how many records of the log are producer duplicates:
// the copies of each shared id beyond its first.
const propDuplicates = (propLogLen / 4) * (propPartitions - 1)

// propWorld is replicas sharing one store and one log of propLogLen
// records per partition.
type propWorld struct {
	t     *testing.T
	st    *flakyStore
	reps  []*simSampler
	rng   *rand.Rand
	trace []string
}

func (w *propWorld) newReplica(i int) {
	cfg := store.Config{FlushInterval: time.Hour, BufferLimit: 1 << 20}
	a, _ := newTestAggregator(w.t, w.st, cfg, nil, WithGroup("g"), WithDuplicateIDs(24*time.Hour, nil))
	s := &simSampler{agg: a, cursor: map[int32]int64{}, rewinds: map[int32]int64{}}
	a.SetListener(s)
	w.reps[i] = s
}

// assign gives partition p to replica r, resuming from the stored
// position; the previous owner is not told (a zombie until it is revoked).
func (w *propWorld) assign(r *simSampler, p int32) {
	pos, err := r.agg.Positions(context.Background())
	from := int64(-1)
	if err == nil {
		if off, ok := pos[propTopic][p]; ok {
			from = off
		}
	}
	r.cursor[p] = max(from, 0)
	r.agg.Acquire(propTopic, p, from)
}

// read delivers the next n records of p, with the Advance behind them
// unless the batch is cut short (a crash before the Advance was queued).
func (w *propWorld) read(r *simSampler, p int32, n int64, advance bool) {
	r.applyRewinds()
	from, ok := r.cursor[p]
	if !ok {
		return
	}
	to := min(from+n, propLogLen)
	for o := from; o < to; o++ {
		r.agg.Observe(&event.Record{Topic: propTopic, Partition: p, Offset: o}, propResult(p, o))
	}
	if advance && to > from {
		r.agg.Advance(propTopic, p, from, to)
	}
	r.cursor[p] = to
}

func (w *propWorld) step() {
	i := w.rng.IntN(len(w.reps))
	r := w.reps[i]
	p := int32(w.rng.IntN(propPartitions))
	switch op := w.rng.IntN(12); {
	case op < 2:
		w.trace = append(w.trace, fmt.Sprintf("assign r%d p%d", i, p))
		w.assign(r, p)
	case op < 6:
		n := int64(1 + w.rng.IntN(8))
		adv := w.rng.IntN(8) != 0
		w.trace = append(w.trace, fmt.Sprintf("read r%d p%d n=%d advance=%v", i, p, n, adv))
		w.read(r, p, n, adv)
	case op < 8:
		w.st.down, w.st.lostAck = w.rng.IntN(5) == 0, w.rng.IntN(5) == 0
		w.trace = append(w.trace, fmt.Sprintf("flush r%d down=%v lostAck=%v", i, w.st.down, w.st.lostAck))
		_ = r.agg.Flush(context.Background())
		w.st.down, w.st.lostAck = false, false
	case op < 9:
		w.trace = append(w.trace, fmt.Sprintf("revoke r%d p%d", i, p))
		if _, owned := r.cursor[p]; owned {
			r.agg.Release(context.Background(), map[string][]int32{propTopic: {p}})
			delete(r.cursor, p)
		}
	case op < 10:
		w.trace = append(w.trace, fmt.Sprintf("crash r%d", i))
		w.newReplica(i)
	default:
		w.trace = append(w.trace, fmt.Sprintf("rewind-read r%d p%d", i, p))
		r.applyRewinds()
	}
}

// finish lets a fresh replica read every partition to its end and store
// it, like the last owner after all the failures.
func (w *propWorld) finish() {
	w.newReplica(0)
	r := w.reps[0]
	for p := range int32(propPartitions) {
		w.assign(r, p)
	}
	for range 10 {
		for p := range int32(propPartitions) {
			w.read(r, p, propLogLen, true)
		}
		if err := r.agg.Flush(context.Background()); err != nil {
			w.t.Fatalf("final flush: %v", err)
		}
		r.applyRewinds()
		if w.done() {
			return
		}
	}
}

func (w *propWorld) done() bool {
	ps, err := w.st.Positions(context.Background(), "g")
	if err != nil || len(ps) != propPartitions {
		return false
	}
	for _, p := range ps {
		if p.Offset != propLogLen {
			return false
		}
	}
	return true
}

// check asserts exactly-once: every record of every partition counted once.
func (w *propWorld) check(seed uint64) {
	ctx := context.Background()
	win := store.Window{From: time.Unix(0, 0), To: time.Now().Add(48 * time.Hour)}
	recs, err := w.st.Records(ctx, win)
	if err != nil {
		w.t.Fatal(err)
	}
	viols, err := w.st.Violations(ctx, win)
	if err != nil {
		w.t.Fatal(err)
	}
	var checked, compliant, bad, dups int64
	for _, r := range recs {
		checked, compliant = checked+r.Checked, compliant+r.Compliant
	}
	for _, v := range viols {
		if v.Rule == event.RuleDuplicateEventID {
			dups += v.Violations
		} else {
			bad += v.Violations
		}
	}
	const all, wantBad = propPartitions * propLogLen, propPartitions * propLogLen / 3
	if checked != all || bad != wantBad || compliant != all-wantBad || dups != propDuplicates || !w.done() {
		w.t.Fatalf("seed %d: checked=%d compliant=%d bad=%d duplicates=%d, want %d/%d/%d/%d (positions complete: %v)\nops:\n%v",
			seed, checked, compliant, bad, dups, all, all-wantBad, wantBad, propDuplicates, w.done(), w.trace)
	}
}

func runLedgerProperty(t *testing.T, seed uint64, steps int) {
	w := &propWorld{t: t, st: &flakyStore{Store: storetest.OpenSQLite(t, t.TempDir())}, reps: make([]*simSampler, 3),
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for i := range w.reps {
		w.newReplica(i)
	}
	for range steps {
		w.step()
	}
	w.finish()
	w.check(seed)
}

// TestLedgerExactlyOnceProperty runs random interleavings of assignment
// (with zombie owners), reads with and without their Advance, flushes
// against a store that is down or loses acknowledgements, revokes, crashes
// and rewinds, by three replicas sharing one store; after a final owner
// reads to the end, every record is counted exactly once, and every
// producer duplicate (an event id on every partition) exactly once as
// duplicate.event_id, whatever was read, lost and read again.
func TestLedgerExactlyOnceProperty(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := range uint64(seeds) {
		runLedgerProperty(t, seed, 80)
	}
}

// FuzzLedgerExactlyOnce is TestLedgerExactlyOnceProperty with fuzzed
// seeds and lengths; invariant: exactly-once counts.
func FuzzLedgerExactlyOnce(f *testing.F) {
	for _, s := range []uint64{1, 7, 42, 1234} {
		f.Add(s, uint8(60))
	}
	f.Fuzz(func(t *testing.T, seed uint64, steps uint8) {
		runLedgerProperty(t, seed, int(steps))
	})
}
