//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// TestLagScenarios is issue 21's scenario suite on a real Kafka 4.1
// broker: real consumer groups driven by franz-go, ground truth (record
// timestamps, offsets, what was deleted) created by the test. The
// collector's cycles run on a virtual clock 15 s apart and the records
// carry timestamps on that clock, so ten minutes of samples take seconds
// and nothing sleeps; everything else — offsets, commits, ownership,
// DeleteRecords, the records read back for exact time lag — is the
// broker's.
func TestLagScenarios(t *testing.T) {
	b := realkafka.Start(t)
	for _, sc := range []struct {
		name string
		run  func(*scenario)
	}{
		{"IdleThenBurstExactTimeLag", idleThenBurst},
		{"SteadyBurstLoadExact", steadyBursts},
		{"SlowButProgressingIsWarn", slowConsumer},
		{"CaughtUpIdleTopicIsOK", caughtUpIdle},
		{"StopsWithDataWaitingIsStop", stopsWithDataWaiting},
		{"StuckOnOneRecordIsStall", stuckOnOneRecord},
		{"RewindAndRecovery", rewindAndRecovery},
		{"DeleteRecordsDataLossExact", deletedBelowCommitted},
		{"RetentionTimeToLoss", retentionTimeToLoss},
		{"Burrow38_IdleTopicNeverStop", caughtUpIdle},
		{"Burrow123_LowVolumeNeverStop", lowVolume},
		{"Burrow140_RareTrafficRareCommitsNeverStop", rareTraffic},
		{"Burrow237_PerMessageCommitsNeverStop", perMessageCommits},
		{"Burrow290_StoppedConsumerIsStop", stopsWithDataWaiting},
		{"Burrow303_NoFalseStopAfterLongIdle", noStopAfterLongIdle},
		{"Burrow745_StoppedTwentyMinutesStaysStop", stoppedTwentyMinutes},
		{"Burrow738_WarnFiresForFallingBehind", slowConsumer},
		{"Burrow453_WarnFiresWhenCommitsOutpaceRefresh", fastCommitsFallingBehind},
		{"Burrow155_WarnFiresOnGrowingLag", growingLagWarns},
		{"Burrow452_LagInSeconds", idleThenBurst},
		{"Kminion182_LagInSeconds", steadyBursts},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(newScenario(t, b, sc.name)) })
	}
}

// step is the virtual time between two cycles (lag.interval).
const step = 15 * time.Second

// scenario is one topic, its groups and a collector on a virtual clock.
type scenario struct {
	t      *testing.T
	ctx    context.Context
	b      *realkafka.Broker
	adm    *kadm.Client
	prod   *kgo.Client
	topic  string
	base   time.Time
	k      int // cycles run
	c      *lag.Collector
	stamps map[int32]map[int64]time.Time // the timestamp of every record produced, by partition and offset
}

func newScenario(t *testing.T, b *realkafka.Broker, name string) *scenario {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	cl := b.Client(t)
	s := &scenario{t: t, ctx: ctx, b: b, adm: kadm.NewClient(cl), topic: "sc." + name,
		prod: b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())),
		base: time.Now().Add(-2 * time.Hour).Truncate(time.Second), stamps: map[int32]map[int64]time.Time{}}
	lagCreateTopic(ctx, t, s.adm, s.topic, 2, map[string]*string{"retention.ms": kadm.StringPtr("86400000")})
	s.collector(lag.Config{})
	return s
}

// collector (re)creates the collector with cfg plus the suite's defaults.
func (s *scenario) collector(cfg lag.Config) {
	cfg.Interval, cfg.TopicsInclude = step, []string{s.topic}
	if cfg.StatusWindow == 0 {
		cfg.StatusWindow = 10
	}
	cl := s.b.Client(s.t)
	c, err := lag.New(cfg, cl, lag.Expectations{}, prometheus.NewRegistry(), nil,
		lag.WithRecordClient(cl), lag.WithClock(func() time.Time { return s.base.Add(time.Duration(s.k) * step) }))
	if err != nil {
		s.t.Fatal(err)
	}
	s.c = c
}

// now is the virtual time records produced now are stamped with: one
// second after the last cycle.
func (s *scenario) now() time.Time { return s.base.Add(time.Duration(s.k)*step + time.Second) }

// produce appends n records to partition p stamped now, and remembers
// their offsets and timestamps.
func (s *scenario) produce(p int32, n int) {
	s.t.Helper()
	if n == 0 {
		return
	}
	at := s.now()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: s.topic, Partition: p, Timestamp: at, Value: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	res := s.prod.ProduceSync(s.ctx, recs...)
	if err := res.FirstErr(); err != nil {
		s.t.Fatal(err)
	}
	if s.stamps[p] == nil {
		s.stamps[p] = map[int64]time.Time{}
	}
	for _, r := range res {
		s.stamps[p][r.Record.Offset] = at
	}
}

// cycle runs one collection cycle at the next virtual tick.
func (s *scenario) cycle() *lag.Snapshot {
	s.t.Helper()
	s.k++
	if err := s.c.CollectOnce(s.ctx); err != nil {
		s.t.Fatalf("cycle %d: %v", s.k, err)
	}
	return s.c.Snapshot()
}

// part returns group's detail on partition p of the scenario's topic.
func (s *scenario) part(group string, p int32) (lag.GroupLag, lag.PartitionLag) {
	s.t.Helper()
	g, pl, ok := s.partIfCommitted(group, p)
	if !ok {
		s.t.Fatalf("cycle %d: group %s has no partition %d: %+v", s.k, group, p, g)
	}
	return g, pl
}

// partIfCommitted is part for a partition the group may not have committed
// on yet (a consumer reading n records of several partitions decides which
// partitions they come from).
func (s *scenario) partIfCommitted(group string, p int32) (lag.GroupLag, lag.PartitionLag, bool) {
	s.t.Helper()
	g, ok := s.c.GroupDetail(group)
	if !ok {
		s.t.Fatalf("cycle %d: group %s not reported", s.k, group)
	}
	for _, tl := range g.Topics {
		for _, pl := range tl.Partitions {
			if tl.Topic == s.topic && pl.Partition == p {
				return g, pl, true
			}
		}
	}
	return g, lag.PartitionLag{}, false
}

// consumer is a franz-go group member that reads and commits on demand.
type consumer struct {
	s  *scenario
	cl *kgo.Client
}

func (s *scenario) join(group string, opts ...kgo.Opt) *consumer {
	all := append([]kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(s.topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond)}, opts...)
	return &consumer{s: s, cl: s.b.Client(s.t, all...)}
}

// read polls exactly n records (one PollRecords may return fewer) and
// commits them.
func (c *consumer) read(n int) {
	c.s.t.Helper()
	for got := 0; got < n; {
		fs := c.cl.PollRecords(c.s.ctx, n-got)
		if err := c.s.ctx.Err(); err != nil {
			c.s.t.Fatalf("read %d of %d: %v", got, n, err)
		}
		got += fs.NumRecords()
	}
	if err := c.cl.CommitUncommittedOffsets(c.s.ctx); err != nil {
		c.s.t.Fatal(err)
	}
}

// exact checks that the partition's time lag is exact and within
// max(1 s, 1 %) of the true age of the record at its committed offset.
func (s *scenario) exact(pl lag.PartitionLag) {
	s.t.Helper()
	if pl.LagRecords == 0 {
		if pl.LagSeconds != 0 {
			s.t.Fatalf("cycle %d: caught up with time lag %v", s.k, pl.LagSeconds)
		}
		return
	}
	ts, ok := s.stamps[pl.Partition][max(pl.Committed, pl.Start)]
	if !ok {
		s.t.Fatalf("cycle %d: no record produced at offset %d", s.k, pl.Committed)
	}
	truth := s.c.Snapshot().Time.Sub(ts).Seconds()
	if pl.LagSecondsSource != lag.SourceExact || math.Abs(float64(pl.LagSeconds)-truth) > math.Max(1, truth/100) {
		s.t.Fatalf("cycle %d: time lag %v s (%s), true age of the oldest unconsumed record %v s", s.k, pl.LagSeconds, pl.LagSecondsSource, truth)
	}
}

func (s *scenario) wantStatus(group string, p int32, want lag.Status) lag.PartitionLag {
	s.t.Helper()
	_, pl := s.part(group, p)
	if pl.Status != want {
		s.t.Fatalf("cycle %d (%v virtual): %s partition %d is %s (%s, waiting %v s, lag %d), want %s",
			s.k, time.Duration(s.k)*step, group, p, pl.Status, pl.Reason, pl.WaitingSeconds, pl.LagRecords, want)
	}
	return pl
}

func idleThenBurst(s *scenario) {
	c := s.join("g-burst")
	s.produce(0, 5)
	c.read(5)
	for range 16 { // four idle minutes, caught up
		s.cycle()
		s.wantStatus("g-burst", 0, lag.StatusOK)
	}
	s.produce(0, 2)
	s.cycle()
	_, pl := s.part("g-burst", 0)
	s.exact(pl) // 14 s, not spread over the four idle minutes
}

func steadyBursts(s *scenario) {
	c := s.join("g-steady")
	var checked [2]int
	for i := range 12 {
		s.produce(0, 20)
		s.produce(1, 20)
		if i > 0 {
			c.read(40) // everything but this cycle's burst
		}
		s.cycle()
		for p := range int32(2) {
			// Nothing is committed before the first read, and the first
			// reads may all come from one partition: a partition is judged
			// from its first commit on (a commit, once made, stays).
			if _, pl, ok := s.partIfCommitted("g-steady", p); ok {
				s.exact(pl)
				checked[p]++
			}
		}
	}
	for p, n := range checked {
		if n < 8 {
			s.t.Fatalf("partition %d judged in %d of 11 cycles after the first read, want at least 8", p, n)
		}
	}
}

// slowConsumer reads 6 records a cycle while 10 arrive: five minutes of
// samples, WARN (falling behind) from the first judgement on, never STOP
// or STALL, never flipping; drain time null, rates measured.
func slowConsumer(s *scenario) {
	c := s.join("g-slow")
	s.produce(0, 10)
	for i := range 20 {
		s.produce(0, 10)
		c.read(6)
		s.cycle()
		g, pl := s.part("g-slow", 0)
		if pl.Status == lag.StatusStop || pl.Status == lag.StatusStall || (i >= 6 && pl.Status != lag.StatusWarn) {
			s.t.Fatalf("cycle %d: slow consumer %s (%s)", s.k, pl.Status, pl.Reason)
		}
		s.exact(pl)
		if i >= 6 && (g.DrainSeconds.Known() || g.Topics[0].ConsumeRate >= g.Topics[0].ProduceRate) {
			s.t.Fatalf("cycle %d: drain %v with rates %v/%v, want not draining", s.k, g.DrainSeconds, g.Topics[0].ConsumeRate, g.Topics[0].ProduceRate)
		}
	}
	// catching up: reads 20 a cycle while 10 arrive — drains, OK again
	for range 12 {
		s.produce(0, 10)
		c.read(min(20, int(s.lagOf("g-slow", 0))))
		s.cycle()
	}
	g, pl := s.part("g-slow", 0)
	if pl.Status != lag.StatusOK || g.LagRecords > 0 && !g.DrainSeconds.Known() {
		s.t.Fatalf("after catching up: %s (%s), drain %v", pl.Status, pl.Reason, g.DrainSeconds)
	}
}

func (s *scenario) lagOf(group string, p int32) int64 {
	ends, err := s.adm.ListEndOffsets(s.ctx, s.topic)
	if err != nil {
		s.t.Fatal(err)
	}
	e, _ := ends.Lookup(s.topic, p)
	offs := s.adm.FetchManyOffsets(s.ctx, group)
	o, _ := offs[group].Fetched.Lookup(s.topic, p)
	return e.Offset - o.At
}

// caughtUpIdle: a caught-up member and a caught-up empty group on an idle
// topic are OK for ten minutes of samples.
func caughtUpIdle(s *scenario) {
	c := s.join("g-idle")
	s.produce(0, 3)
	c.read(3)
	gone := s.join("g-idle-gone")
	gone.read(3)
	gone.cl.Close()
	for range 40 {
		s.cycle()
		s.wantStatus("g-idle", 0, lag.StatusOK)
		s.wantStatus("g-idle-gone", 0, lag.StatusOK)
	}
}

// stopsWithDataWaiting: a consumer that committed every cycle leaves;
// records keep arriving. STOP at the first cycle at least stop_after (60 s)
// after the first record it did not read, so within stop_after + one
// interval.
func stopsWithDataWaiting(s *scenario) {
	c := s.join("g-stop")
	for range 4 {
		s.produce(0, 5)
		c.read(5)
		s.cycle()
		s.wantStatus("g-stop", 0, lag.StatusOK)
	}
	c.cl.Close()
	arrived := s.now()
	for range 8 {
		s.produce(0, 5)
		s.cycle()
		waited := s.c.Snapshot().Time.Sub(arrived)
		want := lag.StatusOK
		switch {
		case waited >= time.Minute:
			want = lag.StatusStop
		case waited > 2*step:
			continue // falling behind (WARN) before it is judged stopped
		}
		pl := s.wantStatus("g-stop", 0, want)
		if want == lag.StatusStop && waited >= time.Minute+step {
			s.exact(pl)
		}
	}
}

// stoppedTwentyMinutes: a stopped consumer stays STOP (Burrow #745 showed
// OK after ~20 minutes).
func stoppedTwentyMinutes(s *scenario) {
	c := s.join("g-gone")
	s.produce(0, 5)
	c.read(5)
	c.cl.Close()
	s.produce(0, 1)
	for i := range 90 { // 22.5 minutes
		s.cycle()
		if i >= 4 {
			s.wantStatus("g-gone", 0, lag.StatusStop)
		}
	}
}

// stuckOnOneRecord: a live member owns the partition, reads a record it
// cannot process (it commits up to the record before) and keeps polling
// without committing: STALL within stop_after + one interval, and the
// stalled partition names the offset of that record.
func stuckOnOneRecord(s *scenario) {
	c := s.join("g-stuck")
	s.produce(0, 4)
	c.read(4)
	s.cycle()
	s.produce(0, 3) // the first of them is the poison pill at offset 4
	poisonAt := s.now()
	for n := 0; n == 0; { // reads it, never commits it
		n = c.cl.PollRecords(s.ctx, 1).NumRecords()
		if s.ctx.Err() != nil {
			s.t.Fatal(s.ctx.Err())
		}
	}
	for range 6 {
		s.cycle()
		_, pl := s.part("g-stuck", 0)
		waited := s.c.Snapshot().Time.Sub(poisonAt)
		if (pl.Status == lag.StatusStall) != (waited >= time.Minute) || !pl.Owned {
			s.t.Fatalf("cycle %d, %v after the poison pill: %s (%s), owned %t", s.k, waited, pl.Status, pl.Reason, pl.Owned)
		}
	}
	g, _ := s.c.GroupDetail("g-stuck")
	st := g.Stalled()
	if len(st) != 1 || st[0].Committed != 4 || st[0].Topic != s.topic || !lag.StatusStall.Stalled() {
		s.t.Fatalf("stalled partitions %+v, want %s/0 at offset 4", st, s.topic)
	}
}

// rewindAndRecovery: an empty group's offset is moved back (an offset
// reset) and then forward past where it was: REWIND, then OK.
func rewindAndRecovery(s *scenario) {
	s.produce(0, 100)
	commit := func(at int64) {
		var o kadm.Offsets
		o.AddOffset(s.topic, 0, at, -1)
		if err := s.adm.CommitAllOffsets(s.ctx, "g-rewind", o); err != nil {
			s.t.Fatal(err)
		}
	}
	commit(80)
	s.cycle()
	commit(90)
	s.cycle()
	commit(40) // reset to an older offset
	s.cycle()
	s.wantStatus("g-rewind", 0, lag.StatusRewind)
	commit(95) // back past 90: recovered
	s.produce(0, 5)
	s.cycle()
	commit(105)
	s.cycle()
	s.wantStatus("g-rewind", 0, lag.StatusOK)
}

// deletedBelowCommitted: DeleteRecords moves the log start above an empty
// group's committed offset twice; the lost-records counter equals the
// records deleted unread, each range once.
func deletedBelowCommitted(s *scenario) {
	s.produce(0, 50)
	var o kadm.Offsets
	o.AddOffset(s.topic, 0, 10, -1)
	if err := s.adm.CommitAllOffsets(s.ctx, "g-loss", o); err != nil {
		s.t.Fatal(err)
	}
	del := func(before int64) {
		var d kadm.Offsets
		d.AddOffset(s.topic, 0, before, -1)
		resp, err := s.adm.DeleteRecords(s.ctx, d)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			s.t.Fatal(err)
		}
	}
	steps := []struct{ before, lost int64 }{{0, 0}, {25, 15}, {25, 15}, {40, 30}, {40, 30}}
	for _, st := range steps {
		if st.before > 0 {
			del(st.before)
		}
		s.cycle()
		g, pl := s.part("g-loss", 0)
		if g.LostRecords != st.lost || pl.LagRecords != 50-max(st.before, 10) {
			s.t.Fatalf("cycle %d after deleting below %d: lost %d lag %d, want %d and %d", s.k, st.before, g.LostRecords, pl.LagRecords, st.lost, 50-max(st.before, 10))
		}
		s.exact(pl) // the first record it can still read
	}
}

// retentionTimeToLoss: retention.ms is 2h15m and the oldest unread record
// is two hours old (virtual and real): the time to loss is retention minus
// its age, within one interval.
func retentionTimeToLoss(s *scenario) {
	resp, err := s.adm.AlterTopicConfigs(s.ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("8100000")}}, s.topic)
	for _, r := range resp {
		if err == nil {
			err = r.Err
		}
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.produce(0, 10)
	var o kadm.Offsets
	o.AddOffset(s.topic, 0, 3, -1)
	if err := s.adm.CommitAllOffsets(s.ctx, "g-ttl", o); err != nil {
		s.t.Fatal(err)
	}
	for range 3 {
		s.cycle()
	}
	g, pl := s.part("g-ttl", 0)
	age := s.c.Snapshot().Time.Sub(s.stamps[0][3]).Seconds()
	if want := 8100 - age; math.Abs(float64(pl.TimeToLoss)-want) > step.Seconds() || g.TimeToLoss != pl.TimeToLoss {
		s.t.Fatalf("time to loss %v (group %v), want %v", pl.TimeToLoss, g.TimeToLoss, want)
	}
}

// lowVolume: one record every five cycles, read and committed within a
// cycle: never STOP (Burrow #123).
func lowVolume(s *scenario) {
	c := s.join("g-low")
	for i := range 40 {
		if i%5 == 0 {
			s.produce(0, 1)
			c.read(1)
		}
		s.cycle()
		s.wantStatus("g-low", 0, lag.StatusOK)
	}
}

// rareTraffic: a record every half hour, read and committed within a few
// seconds (one interval); between them nothing commits: never STOP
// (Burrow #140).
func rareTraffic(s *scenario) {
	c := s.join("g-rare")
	s.produce(1, 1)
	c.read(1)
	for i := range 250 {
		if i%120 == 0 {
			s.produce(1, 1)
		}
		if i%120 == 1 {
			c.read(1)
		}
		s.cycle()
		if _, pl := s.part("g-rare", 1); pl.Status == lag.StatusStop || pl.Status == lag.StatusStall {
			s.t.Fatalf("cycle %d: %s", s.k, pl.Status)
		}
	}
}

// perMessageCommits: a consumer that commits after every record, keeping
// up, is OK at every sample (Burrow #237).
func perMessageCommits(s *scenario) {
	c := s.join("g-permsg")
	for range 20 {
		s.produce(0, 4)
		for range 4 {
			c.read(1)
		}
		s.cycle()
		s.wantStatus("g-permsg", 0, lag.StatusOK)
	}
}

// noStopAfterLongIdle: a consumer caught up for an hour of idle topic gets
// a burst and reads it within a cycle: never STOP (Burrow #303).
func noStopAfterLongIdle(s *scenario) {
	c := s.join("g-longidle")
	s.produce(0, 2)
	c.read(2)
	for range 240 {
		s.cycle()
	}
	s.produce(0, 30)
	s.cycle()
	s.wantStatus("g-longidle", 0, lag.StatusOK)
	c.read(30)
	for range 8 {
		s.cycle()
		s.wantStatus("g-longidle", 0, lag.StatusOK)
	}
}

// fastCommitsFallingBehind: many commits per cycle (faster than the
// collector samples), still falling behind: WARN (Burrow #453).
func fastCommitsFallingBehind(s *scenario) {
	c := s.join("g-fastcommit")
	for i := range 12 {
		s.produce(0, 30)
		for range 5 {
			c.read(4) // 5 commits a cycle, 20 records; 30 arrive
		}
		s.cycle()
		if i >= 6 {
			s.wantStatus("g-fastcommit", 0, lag.StatusWarn)
		}
	}
}

// growingLagWarns: a consumer whose lag grows while it keeps committing is
// WARN, with the reason, the rates and a null drain time (Burrow #155).
func growingLagWarns(s *scenario) {
	c := s.join("g-grow")
	for i := range 12 {
		s.produce(1, 12)
		c.read(7)
		s.cycle()
		if i >= 6 {
			pl := s.wantStatus("g-grow", 1, lag.StatusWarn)
			if pl.Reason != lag.ReasonFallingBehind {
				s.t.Fatalf("reason %q", pl.Reason)
			}
		}
	}
}
