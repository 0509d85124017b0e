package ledger

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/storetest"
)

// lagPattern is a cluster source whose groups' lag follows a fixed
// pattern of the window's end: group i breaches in minutes where
// (minute+i)%3 == 0, is ERR where (minute+i)%5 == 0 and at risk where
// (minute+i)%7 == 0; every third window loses a record of group 0.
type lagPattern struct {
	groups int
	mu     sync.Mutex
	calls  int
}

func (*lagPattern) DLQGrowth(_, _ time.Time) map[string]int64      { return nil }
func (*lagPattern) Propagation(_, _ time.Time) map[string]Coverage { return nil }
func (p *lagPattern) LagBreach(from, to time.Time) map[string]LagBreach {
	p.mu.Lock()
	p.calls++
	calls := p.calls
	p.mu.Unlock()
	win := to.Sub(from)
	out := map[string]LagBreach{}
	for i := range p.groups {
		m := to.Minute() + i
		b := LagBreach{Observed: win}
		if m%3 == 0 {
			b.Breach = win
		}
		if m%5 == 0 {
			b.Err = win
		}
		if m%7 == 0 {
			b.AtRisk = win
		}
		if i == 0 && calls%3 == 0 {
			b.Lost = 1
		}
		out[fmt.Sprintf("group-%d", i)] = b
	}
	return out
}

// countingStore counts the lag-breach rows of every write.
type countingStore struct {
	store.Store
	mu     sync.Mutex
	writes []int // lag_breach rows per Write
}

func (s *countingStore) Write(ctx context.Context, b *store.Batch) error {
	n := 0
	for _, c := range b.Cluster {
		if c.Kind == store.KindLagBreach {
			n++
		}
	}
	s.mu.Lock()
	s.writes = append(s.writes, n)
	s.mu.Unlock()
	return s.Store.Write(ctx, b)
}

// lagWrites is the lag_breach rows of each write since the last call.
func (s *countingStore) lagWrites() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.writes
	s.writes = nil
	return out
}

// TestPeriodicFlushHoldsLagRows: the periodic flush writes no lag row of
// a group until it holds DefaultLagHold of observed time, then one row
// per group and kind carrying the whole held time; Flush writes what is
// held at once.
func TestPeriodicFlushHoldsLagRows(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: storetest.OpenSQLite(t, t.TempDir())}
	c := storetest.NewClock(mon17.Add(10 * time.Minute))
	a, _ := newTestAggregator(t, st, store.Config{}, c, WithClusterSource(&lagPattern{groups: 4}))
	step := 10 * time.Second
	flushes := int(DefaultLagHold / step)
	for i := 1; i <= flushes; i++ {
		c.Set(c.Now().Add(step))
		if err := a.flushDue(ctx); err != nil {
			t.Fatal(err)
		}
		got := st.lagWrites()
		want := 0
		if i == flushes {
			want = 4
		}
		if n := sum(got); n != want {
			t.Fatalf("periodic flush %d (%s held) wrote %d lag_breach rows (writes %v), want %d", i, time.Duration(i)*step, n, got, want)
		}
	}
	rows := lagRows(t, st)
	if len(rows) != 4 || rows[0].Total != DefaultLagHold.Seconds() {
		t.Fatalf("after %s: lag_breach rows %+v, want 4 rows of %s observed", DefaultLagHold, rows, DefaultLagHold)
	}
	c.Set(c.Now().Add(step))
	if err := a.flushDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sum(st.lagWrites()); n != 0 {
		t.Fatalf("a periodic flush with %s held wrote %d lag_breach rows", step, n)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sum(st.lagWrites()); n != 4 {
		t.Fatalf("Flush wrote %d lag_breach rows, want the 4 held", n)
	}
	if rows := lagRows(t, st); rows[0].Total != (DefaultLagHold + step).Seconds() {
		t.Fatalf("after Flush: %+v, want %s observed", rows[0], DefaultLagHold+step)
	}
}

// TestLagHoldKeepsTheReport: a ledger that holds lag rows, stopped and
// restarted (a graceful stop: Run's final flush) over two hour boundaries,
// stores exactly the hourly lag rows, lost records and weekly report of
// one that writes every flush.
func TestLagHoldKeepsTheReport(t *testing.T) {
	ctx := context.Background()
	start := mon17.Add(10*time.Hour + 40*time.Minute)
	refStore := storetest.OpenSQLite(t, t.TempDir())
	heldStore := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(start)
	src := func() ClusterSource { return &lagPattern{groups: 5} }
	ref, _ := newTestAggregator(t, refStore, store.Config{}, c, WithClusterSource(src()), WithLagHold(0))
	held, _ := newTestAggregator(t, heldStore, store.Config{}, c, WithClusterSource(src()))
	steps := []time.Duration{10 * time.Second, 7 * time.Second, 13 * time.Second, 10 * time.Second, 11 * time.Second}
	for i := 0; c.Now().Before(start.Add(130 * time.Minute)); i++ {
		c.Set(c.Now().Add(steps[i%len(steps)]))
		for _, a := range []*Ledger{ref, held} {
			if err := a.flushDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if i == 200 { // a graceful restart: the final flush, then a new process
			if err := held.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			held, _ = newTestAggregator(t, heldStore, store.Config{}, c, WithClusterSource(src()))
		}
	}
	for _, a := range []*Ledger{ref, held} {
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want, got := allCluster(t, refStore), allCluster(t, heldStore)
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("held ledger stored\n%v\nwant (written every flush)\n%v", got, want)
	}
	rw, rg := weekLag(t, refStore, c.Now()), weekLag(t, heldStore, c.Now())
	if fmt.Sprintf("%+v", rg) != fmt.Sprintf("%+v", rw) || len(rw) != 5 || rw[0].BreachSeconds == 0 {
		t.Fatalf("weekly lag section with held rows\n%+v\nwant\n%+v", rg, rw)
	}
}

// TestCrashLosesAtMostTheHeldLagTime: a process that dies without its
// final flush loses exactly the lag seconds it held — under
// DefaultLagHold of observed time per group — and nothing of its lost
// records (docs/reports.md, "Lag rows held in memory").
func TestCrashLosesAtMostTheHeldLagTime(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(10 * time.Minute))
	src := &lagPattern{groups: 3}
	a, _ := newTestAggregator(t, st, store.Config{}, c, WithClusterSource(src))
	for range 11 { // 110 s: one write at 60 s, 50 s held
		c.Set(c.Now().Add(10 * time.Second))
		if err := a.flushDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var held float64
	for _, h := range a.held {
		held = max(held, h.observed)
	}
	if held != 50 {
		t.Fatalf("held %v s of observed time, want 50", held)
	}
	rows := lagRows(t, st) // the process dies here: a is never flushed again
	for _, r := range rows {
		if lost := 110 - r.Total; lost != held || lost >= DefaultLagHold.Seconds() {
			t.Errorf("group %s: %v s observed stored of 110, lost %v s, want the %v s held", r.Name, r.Total, lost, held)
		}
	}
	var lost float64
	for _, r := range allCluster(t, st) {
		if r.Kind == store.KindLagLost {
			lost += r.Value
		}
	}
	if lost != 3 { // windows 3, 6 and 9 of group-0
		t.Errorf("lost records stored: %v, want 3 (they are never held)", lost)
	}
}

// TestRunFinalFlushWritesHeldLagRows: Run's final flush (a graceful
// stop) writes the held lag rows.
func TestRunFinalFlushWritesHeldLagRows(t *testing.T) {
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(10 * time.Minute))
	a, _ := newTestAggregator(t, st, store.Config{FlushInterval: time.Hour}, c, WithClusterSource(&lagPattern{groups: 2}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	c.Set(c.Now().Add(20 * time.Second))
	if err := a.flushDue(ctx); err != nil {
		t.Fatal(err)
	}
	if rows := lagRows(t, st); len(rows) != 0 {
		t.Fatalf("periodic flush wrote %v with 20 s held", rows)
	}
	c.Set(c.Now().Add(5 * time.Second))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rows := lagRows(t, st)
	if len(rows) != 2 || rows[0].Total != 25 || rows[1].Total != 25 {
		t.Fatalf("after Run stopped: %+v, want 2 groups with 25 s observed", rows)
	}
}

func sum(ns []int) int {
	n := 0
	for _, v := range ns {
		n += v
	}
	return n
}

// allCluster is every cluster row of the store, sorted.
func allCluster(t *testing.T, st store.Store) []store.ClusterAgg {
	t.Helper()
	rows, err := st.Cluster(context.Background(), store.Window{From: mon17.Add(-24 * time.Hour), To: mon17.Add(7 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool {
		x, y := rows[i], rows[j]
		return fmt.Sprint(x.Hour.Unix(), x.Kind, x.Name) < fmt.Sprint(y.Hour.Unix(), y.Kind, y.Name)
	})
	return rows
}

// lagRows is the store's lag_breach rows, summed over hours per group.
func lagRows(t *testing.T, st store.Store) []store.ClusterAgg {
	t.Helper()
	by := map[string]*store.ClusterAgg{}
	var out []store.ClusterAgg
	for _, r := range allCluster(t, st) {
		if r.Kind != store.KindLagBreach {
			continue
		}
		if by[r.Name] == nil {
			by[r.Name] = &store.ClusterAgg{Kind: r.Kind, Name: r.Name}
		}
		by[r.Name].Value += r.Value
		by[r.Name].Total += r.Total
	}
	for _, r := range by {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// weekLag is the weekly report's lag section of ISO week 2026-W47.
func weekLag(t *testing.T, st store.Store, now time.Time) []report.LagRow {
	t.Helper()
	r, err := report.Build(context.Background(), st, report.Week{Year: 2026, Num: 47}, "", time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	return r.Lag
}

// TestHourEndWritesHeldLagRows: the first periodic flush of a new hour
// writes what the groups held of the hour before, in that hour.
func TestHourEndWritesHeldLagRows(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(10*time.Hour + 59*time.Minute + 30*time.Second))
	a, _ := newTestAggregator(t, st, store.Config{}, c, WithClusterSource(&steadyLag{groups: 1, stalled: true, atRisk: true}))
	for _, at := range []time.Duration{20 * time.Second, 40 * time.Second} {
		c.Set(mon17.Add(10*time.Hour + 59*time.Minute + 30*time.Second + at))
		if err := a.flushDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range allCluster(t, st) {
		got = append(got, fmt.Sprintf("%s %s %v", r.Hour.Format("15:04"), r.Kind, r.Total))
	}
	want := []string{"10:00 lag_at_risk 0", "10:00 lag_breach 20", "10:00 lag_err 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows after the hour ended: %v, want %v", got, want)
	}
}

// switchable is lagPattern that stops answering (a replica that lost the
// lag leadership) or drops a group when told.
type switchable struct {
	lagPattern
	mu      sync.Mutex
	leading bool
	without string
}

func (s *switchable) LagBreach(from, to time.Time) map[string]LagBreach {
	s.mu.Lock()
	leading, without := s.leading, s.without
	s.mu.Unlock()
	if !leading {
		return nil
	}
	out := s.lagPattern.LagBreach(from, to)
	delete(out, without)
	return out
}

// TestUnsampledGroupsWriteTheirHeldRows: a group the last sample did not
// include (it vanished) has its held rows written by the next periodic
// flush, and so has every group when this replica stops leading the lag
// collector — not an hour later.
func TestUnsampledGroupsWriteTheirHeldRows(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(mon17.Add(10 * time.Minute))
	src := &switchable{lagPattern: lagPattern{groups: 3}, leading: true}
	a, _ := newTestAggregator(t, st, store.Config{}, c, WithClusterSource(src))
	step := func() {
		t.Helper()
		c.Set(c.Now().Add(10 * time.Second))
		if err := a.flushDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step()
	step() // 20 s held by every group
	src.mu.Lock()
	src.without = "group-1"
	src.mu.Unlock()
	step()
	if rows := lagRows(t, st); len(rows) != 1 || rows[0].Name != "group-1" || rows[0].Total != 20 {
		t.Fatalf("after group-1 vanished: %+v, want its 20 s written", rows)
	}
	src.mu.Lock()
	src.leading = false
	src.mu.Unlock()
	step()
	rows := lagRows(t, st)
	if len(rows) != 3 || rows[0].Total != 30 || rows[2].Total != 30 {
		t.Fatalf("after the lag leadership moved: %+v, want every group written (30 s, group-1 20 s)", rows)
	}
}

// steadyLag is a cluster source of groups whose lag state does not change
// (an idle estate): every group observed for the whole window; breaching
// and in status ERR when stalled is set, at risk of losing records when
// atRisk is; healthy otherwise.
type steadyLag struct {
	groups          int
	stalled, atRisk bool
}

func (*steadyLag) DLQGrowth(_, _ time.Time) map[string]int64      { return nil }
func (*steadyLag) Propagation(_, _ time.Time) map[string]Coverage { return nil }
func (s *steadyLag) LagBreach(from, to time.Time) map[string]LagBreach {
	win := to.Sub(from)
	out := make(map[string]LagBreach, s.groups)
	for i := range s.groups {
		b := LagBreach{Observed: win}
		if s.stalled {
			b.Breach, b.Err = win, win
		}
		if s.atRisk {
			b.AtRisk = win
		}
		out[fmt.Sprintf("group-%04d", i)] = b
	}
	return out
}

// TestIdleMinuteWritesOnlyTheRowsTheReportNeeds: a minute of periodic
// flushes on an idle estate writes one lag_breach row per group (it
// carries the observed time) and a lag_err or lag_at_risk row only for a
// group that spent time in that state: three healthy groups write three
// rows, three stopped ones six, not nine each.
func TestIdleMinuteWritesOnlyTheRowsTheReportNeeds(t *testing.T) {
	for _, tc := range []struct {
		src  *steadyLag
		want map[string]int
	}{
		{&steadyLag{groups: 3}, map[string]int{store.KindLagBreach: 3}},
		{&steadyLag{groups: 3, stalled: true}, map[string]int{store.KindLagBreach: 3, store.KindLagErr: 3}},
		{&steadyLag{groups: 3, atRisk: true}, map[string]int{store.KindLagBreach: 3, store.KindLagAtRisk: 3}},
	} {
		ctx := context.Background()
		st := &kindCounter{Store: storetest.OpenSQLite(t, t.TempDir())}
		c := storetest.NewClock(mon17.Add(10 * time.Minute))
		a, _ := newTestAggregator(t, st, store.Config{}, c, WithClusterSource(tc.src))
		for range int(DefaultLagHold / (10 * time.Second)) {
			c.Set(c.Now().Add(10 * time.Second))
			if err := a.flushDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := st.written(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%+v: a minute wrote rows %v, want %v", *tc.src, got, tc.want)
		}
		for _, r := range allCluster(t, st) {
			if r.Kind == store.KindLagBreach && r.Total != DefaultLagHold.Seconds() || r.Kind != store.KindLagBreach && (r.Value != DefaultLagHold.Seconds() || r.Total != 0) {
				t.Errorf("%+v: stored %+v, want a minute observed on lag_breach, a minute in the state on %s", *tc.src, r, r.Kind)
			}
		}
	}
}

// kindCounter counts the cluster rows written per kind.
type kindCounter struct {
	store.Store
	mu   sync.Mutex
	rows map[string]int
}

func (s *kindCounter) Write(ctx context.Context, b *store.Batch) error {
	s.mu.Lock()
	if s.rows == nil {
		s.rows = map[string]int{}
	}
	for _, c := range b.Cluster {
		s.rows[c.Kind]++
	}
	s.mu.Unlock()
	return s.Store.Write(ctx, b)
}

func (s *kindCounter) written() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.rows)
}

// truthSource is lagPattern that also sums what it answered per group:
// the ground truth of the weekly report's lag section.
type truthSource struct {
	lagPattern
	mu  sync.Mutex
	sum map[string]*LagBreach
}

func (s *truthSource) LagBreach(from, to time.Time) map[string]LagBreach {
	out := s.lagPattern.LagBreach(from, to)
	out["healthy"] = LagBreach{Observed: to.Sub(from)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sum == nil {
		s.sum = map[string]*LagBreach{}
	}
	for g, b := range out {
		t := s.sum[g]
		if t == nil {
			t = &LagBreach{}
			s.sum[g] = t
		}
		t.Breach += b.Breach
		t.Err += b.Err
		t.AtRisk += b.AtRisk
		t.Observed += b.Observed
		t.Lost += b.Lost
	}
	return out
}

// TestReportLagFromTheRowsWritten: over two hours of flushes (a graceful
// restart between them) with groups going in and out of breach, ERR and
// risk, the weekly report's lag section is exactly what the source
// answered: breach, ERR and at-risk seconds, observed time, the
// percentages of observed time and the lost records — with lag_err and
// lag_at_risk rows written only where they add seconds (a healthy group
// has lag_breach rows only).
func TestReportLagFromTheRowsWritten(t *testing.T) {
	ctx := context.Background()
	start := mon17.Add(10*time.Hour + 40*time.Minute)
	st := storetest.OpenSQLite(t, t.TempDir())
	c := storetest.NewClock(start)
	src := &truthSource{lagPattern: lagPattern{groups: 6}}
	a, _ := newTestAggregator(t, st, store.Config{}, c, WithClusterSource(src))
	for i := 0; c.Now().Before(start.Add(130 * time.Minute)); i++ {
		c.Set(c.Now().Add(10 * time.Second))
		if err := a.flushDue(ctx); err != nil {
			t.Fatal(err)
		}
		if i == 300 {
			if err := a.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			a, _ = newTestAggregator(t, st, store.Config{}, c, WithClusterSource(src))
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range allCluster(t, st) {
		if r.Name == "healthy" && r.Kind != store.KindLagBreach {
			t.Errorf("a group never in ERR nor at risk stored %+v", r)
		}
	}
	got := weekLag(t, st, c.Now())
	if len(got) != len(src.sum) {
		t.Fatalf("report has %d groups, the source answered for %d", len(got), len(src.sum))
	}
	for _, r := range got {
		w := src.sum[r.Group]
		obs := w.Observed.Seconds()
		want := report.LagRow{Group: r.Group, BreachSeconds: w.Breach.Seconds(), ObservedSeconds: obs,
			BreachPct: 100 * w.Breach.Seconds() / obs, ErrSeconds: w.Err.Seconds(),
			LostRecords: w.Lost, AtRiskSeconds: w.AtRisk.Seconds()}
		if w.Err > 0 {
			want.ErrPct = 100 * w.Err.Seconds() / obs
		}
		if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
			t.Errorf("report row\n%+v\nwant (the source's answers summed)\n%+v", r, want)
		}
	}
}
