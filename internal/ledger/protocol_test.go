package ledger

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// rewindLog is a Listener that notes the rewinds a ledger asks for.
type rewindLog struct {
	mu  sync.Mutex
	got []int64
}

func (r *rewindLog) Stored([]store.Position) {}

func (r *rewindLog) Rewind(_ string, _ int32, offset int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, offset)
}

// last is the offset of the last rewind asked for; -1 when none was.
func (r *rewindLog) last() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		return -1
	}
	return r.got[len(r.got)-1]
}

// protoLedger is a ledger of group "g" on st with a rewindLog.
func protoLedger(t *testing.T, st store.Store) (*Ledger, *rewindLog) {
	t.Helper()
	l, _ := newTestAggregator(t, st, store.Config{FlushInterval: time.Hour}, nil, WithGroup("g"))
	rw := &rewindLog{}
	l.SetListener(rw)
	return l, rw
}

// observeRange observes the records [from, to) of partition 0 of the
// property tests' topic.
func observeRange(l *Ledger, from, to int64) {
	for o := from; o < to; o++ {
		l.Observe(&event.Record{Topic: propTopic, Partition: 0, Offset: o}, propResult(0, o))
	}
}

// readToEnd is the last owner: it resumes partition 0 from the stored
// position (the log start when none is stored), reads to end and stores.
func readToEnd(t *testing.T, st store.Store, end int64) {
	t.Helper()
	l, _ := protoLedger(t, st)
	ctx := context.Background()
	pos, err := l.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	from, ok := pos[propTopic][0]
	if !ok {
		from = 0
	}
	l.Acquire(propTopic, 0, from)
	observeRange(l, from, end)
	if from < end {
		l.Advance(propTopic, 0, from, end)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// storedCount is the records checked in the store and partition 0's
// stored position (-1: none).
func storedCount(t *testing.T, st store.Store) (checked, position int64) {
	t.Helper()
	ctx := context.Background()
	recs, err := st.Records(ctx, store.Window{From: time.Unix(0, 0), To: time.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		checked += r.Checked
	}
	ps, err := st.Positions(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	position = -1
	for _, p := range ps {
		if p.Topic == propTopic && p.Partition == 0 {
			position = p.Offset
		}
	}
	return checked, position
}

func flushOK(t *testing.T, l *Ledger) {
	t.Helper()
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestLedgerRefusesRangeWithEarlierRecords is the minimised input that
// made FuzzLedgerExactlyOnce count 188 records of 180 (seed 116, 220
// steps, testdata/fuzz): two owners of a partition with no stored
// position (a zombie and the new owner) each observe records without
// their Advance and then close a later range. The sampler never does that
// (doc.go, "Protocol"); the ledger used to close the later range with the
// earlier records in it, so both owners stored records 0..7. It now
// refuses such a range, asks for the partition to be read again from the
// lowest offset it observed, and every record is counted once.
func TestLedgerRefusesRangeWithEarlierRecords(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	zombie, zrw := protoLedger(t, st)
	owner, orw := protoLedger(t, st)
	zombie.Acquire(propTopic, 0, -1)
	observeRange(zombie, 0, 2) // no Advance
	owner.Acquire(propTopic, 0, -1)
	observeRange(zombie, 2, 8)
	zombie.Advance(propTopic, 0, 2, 8)
	if got := zrw.last(); got != 0 {
		t.Errorf("zombie asked to read again from %d, want 0 (the lowest offset it observed)", got)
	}
	observeRange(owner, 0, 8) // no Advance
	flushOK(t, zombie)
	observeRange(owner, 8, 12)
	owner.Advance(propTopic, 0, 8, 12)
	if got := orw.last(); got != 0 {
		t.Errorf("owner asked to read again from %d, want 0", got)
	}
	flushOK(t, owner)
	if z, o := testutil.ToFloat64(zombie.m.refused), testutil.ToFloat64(owner.m.refused); z != 1 || o != 1 {
		t.Errorf("refused ranges counted %v (zombie) and %v (owner), want 1 each", z, o)
	}
	if checked, pos := storedCount(t, st); checked != 0 || pos != -1 {
		t.Errorf("the refused ranges stored %d records and position %d, want nothing", checked, pos)
	}
	readToEnd(t, st, 12)
	if checked, pos := storedCount(t, st); checked != 12 || pos != 12 {
		t.Fatalf("store holds %d records at position %d, want each of the 12 once", checked, pos)
	}
}

// TestLedgerRefusesRangeNotHoldingItsRecords: an Advance whose range does
// not hold exactly the records observed since the previous one — a record
// observed twice (an audit still running when a rewind gave up waiting for
// it lands after the new Acquire), or records beyond the range — is
// refused: nothing of it is stored, the sampler is asked to read the
// partition again from its first unstored range, and after that read every
// record is counted once.
func TestLedgerRefusesRangeNotHoldingItsRecords(t *testing.T) {
	for name, breach := range map[string]func(l *Ledger){
		"record observed twice": func(l *Ledger) {
			observeRange(l, 5, 6) // the old read's last audit, after the rewind
			observeRange(l, 3, 7)
			l.Advance(propTopic, 0, 3, 7)
		},
		"records beyond the range": func(l *Ledger) {
			observeRange(l, 3, 9)
			l.Advance(propTopic, 0, 3, 7)
		},
		"records before the range": func(l *Ledger) {
			observeRange(l, 1, 7)
			l.Advance(propTopic, 0, 3, 7)
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := storetest.OpenSQLite(t, t.TempDir())
			l, rw := protoLedger(t, st)
			l.Acquire(propTopic, 0, 0)
			observeRange(l, 0, 3)
			l.Advance(propTopic, 0, 0, 3) // a clean range, held (not stored yet)
			breach(l)
			if got := rw.last(); got != 0 {
				t.Errorf("asked to read again from %d, want 0 (the first range not stored)", got)
			}
			if got := testutil.ToFloat64(l.m.refused); got != 1 {
				t.Errorf("refused ranges counted %v, want 1", got)
			}
			flushOK(t, l)
			if checked, pos := storedCount(t, st); checked != 0 || pos != -1 {
				t.Errorf("stored %d records at position %d after the refused range, want nothing", checked, pos)
			}
			l.Acquire(propTopic, 0, 0) // the sampler's rewind
			observeRange(l, 0, 10)
			l.Advance(propTopic, 0, 0, 10)
			flushOK(t, l)
			if got := testutil.ToFloat64(l.m.refused); got != 1 {
				t.Errorf("after the clean read again, refused ranges counted %v, want still 1", got)
			}
			if checked, pos := storedCount(t, st); checked != 10 || pos != 10 {
				t.Fatalf("store holds %d records at position %d, want each of the 10 once", checked, pos)
			}
		})
	}
}
