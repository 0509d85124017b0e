//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/realkafka"
)

// stProducer writes the exactly-once test's mix to chosen partitions and
// records every acknowledged record in want.
type stProducer struct {
	t    *testing.T
	b    *realkafka.Broker
	want *exExpect
}

// produce writes n records to topic, spread over parts, with a fresh
// client (so partitions added a moment ago are known).
func (p *stProducer) produce(ctx context.Context, topic string, parts []int32, n int) {
	p.t.Helper()
	cl := p.b.Client(p.t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	p.want.mu.Lock()
	recs := make([]*kgo.Record, 0, n)
	for k := range n {
		i := p.want.n
		p.want.n++
		v := dmEvent(i, dmGoodType)
		switch i % 5 {
		case 3:
			v = []byte(fmt.Sprintf("\xff\x00not json %d", i))
		case 4:
			v = dmEvent(i, dmBadTense)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Partition: parts[k%len(parts)], Value: v})
	}
	p.want.mu.Unlock()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		p.t.Fatalf("produce to %s: %v", topic, err)
	}
	p.want.produced(recs)
}

// TestStartPositionRealKafka: with the DEFAULT sample.start_from, nothing
// produced after eventwatch's first start is missed, and the history
// before it is skipped, counted and shown once. (a) a partition that never
// had a record gets records while eventwatch is down; (b) a topic is
// created (with records) while it is down; (c) partitions are added to a
// topic while it runs and get records before the next assignment. Each
// with kill -9 and with SIGTERM; the weekly report counts every record
// produced after the first start exactly once. No sample.instance_id: the
// derived one makes the restart resume auditing within 10 s.
func TestStartPositionRealKafka(t *testing.T) {
	b, ctx, dir, bin := dmRealKafka(t, 12*time.Minute)
	adm := kadm.NewClient(b.Client(t))
	for i, stop := range []string{"kill", "term"} {
		t.Run(stop, func(t *testing.T) {
			stScenario(ctx, t, b, adm, bin, filepath.Join(dir, stop), stop, i)
		})
	}
}

func stScenario(ctx context.Context, t *testing.T, b *realkafka.Broker, adm *kadm.Client, bin, dir, stop string, i int) {
	prefix := "huleedu.e2estart" + stop
	old, created := prefix+".old", prefix+".created"
	want := newExExpect(t, []string{old, created}, 2_000_000+i*100_000)
	history := &stProducer{t: t, b: b, want: newExExpect(t, []string{old}, 3_000_000+i*100_000)}
	p := &stProducer{t: t, b: b, want: want}
	dmCreateTopicN(ctx, t, adm, old, 2)
	history.produce(ctx, old, []int32{0}, 20) // before the first start: skipped by start_from latest
	extra := fmt.Sprintf("sample:\n  group_id: start-%s\n  budget_per_partition: 1000000\n  metadata_refresh: 2s\n  commit_interval: 1s\n"+
		"  session_timeout: 10s\n  topics_include: ['huleedu\\.e2estart%s\\..*']\nstore:\n  flush_interval: 1s\n", stop, stop)
	r := &exRun{t: t, ctx: ctx, bin: bin, broker: b.Addr(), dir: dir, extra: extra, topics: want.topics}
	r.start()
	r.p.d.waitReady(t)
	r.waitAssigned(2)
	if got := r.p.d.metric(t, "eventwatch_sampler_unaudited_records_total", `reason="history"`); got != 20 {
		t.Errorf("history not audited: %v, want 20", got)
	}
	p.produce(ctx, old, []int32{0}, 30)
	exWaitChecked(ctx, t, r.p.d.url, 30)

	if stop == "kill" {
		r.kill()
	} else {
		r.term()
	}
	p.produce(ctx, old, []int32{1}, 100)    // (a) the partition that never had a record
	dmCreateTopicN(ctx, t, adm, created, 3) // (b) a topic created while eventwatch is down
	p.produce(ctx, created, []int32{0, 1, 2}, 100)
	r.restartAfterKill()

	// (c) partitions added while eventwatch runs, records before the next assignment
	if _, err := adm.CreatePartitions(ctx, 2, old); err != nil {
		t.Fatalf("add partitions: %v", err)
	}
	p.produce(ctx, old, []int32{2, 3}, 100)
	exWaitReport(ctx, t, r, want)
	stCheckHistoryNote(ctx, t, r, 20)
	if strings.Count(r.p.log.String(), "eventwatch started watching the estate") != 0 {
		t.Errorf("the restarted process logged the first start again")
	}
}

// stCheckHistoryNote checks the report says, once, how much history the
// first start skipped.
func stCheckHistoryNote(ctx context.Context, t *testing.T, r *exRun, records int64) {
	t.Helper()
	rep, err := rpReport(ctx, r.p.d.url, exWeek(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var hist []report.Note
	for _, n := range rep.Notes {
		if n.Kind == store.NoteHistorySkipped {
			hist = append(hist, n)
		}
	}
	if len(hist) != 1 || hist[0].Records != records || hist[0].Partitions != 1 {
		t.Errorf("history notes %+v, want one of %d records on 1 partition", hist, records)
	}
}

// TestTopicRecreatedRealKafka: a topic is deleted and recreated under a
// running daemon (default configuration): the stored position, now beyond
// the new partition's end, is detected and reset to the log start;
// auditing resumes within one interval; the report, a counter and a WARN
// line say what happened.
func TestTopicRecreatedRealKafka(t *testing.T) {
	b, ctx, dir, bin := dmRealKafka(t, 6*time.Minute)
	adm := kadm.NewClient(b.Client(t))
	topic := "huleedu.e2erecreate.events"
	dmCreateTopicN(ctx, t, adm, topic, 1)
	want := newExExpect(t, []string{topic}, 4_000_000)
	p := &stProducer{t: t, b: b, want: want}
	extra := "sample:\n  group_id: recreate\n  budget_per_partition: 1000000\n  metadata_refresh: 2s\n  commit_interval: 1s\n" +
		"  topics_include: ['huleedu\\.e2erecreate\\..*']\nstore:\n  flush_interval: 1s\n"
	r := &exRun{t: t, ctx: ctx, bin: bin, broker: b.Addr(), dir: dir, extra: extra, topics: want.topics}
	r.start()
	r.p.d.waitReady(t)
	r.waitAssigned(1)
	p.produce(ctx, topic, []int32{0}, 50)
	exWaitChecked(ctx, t, r.p.d.url, 50)

	if _, err := adm.DeleteTopic(ctx, topic); err != nil {
		t.Fatalf("delete topic: %v", err)
	}
	dmEventually(t, "the topic gone", 30*time.Second, func() bool {
		td, err := adm.ListTopics(ctx, topic)
		return err == nil && !td.Has(topic)
	})
	stCreateRetry(ctx, t, adm, topic)
	recreated := time.Now()
	p.produce(ctx, topic, []int32{0}, 20)
	exWaitReport(ctx, t, r, want)
	t.Logf("auditing of the recreated topic complete %.1fs after it was recreated", time.Since(recreated).Seconds())
	if got := r.p.d.metric(t, "eventwatch_sampler_position_resets_total", `reason="beyond_end"`); got != 1 {
		t.Errorf("position resets (beyond_end) = %v, want 1", got)
	}
	rep, err := rpReport(ctx, r.p.d.url, exWeek(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var notes []report.Note
	for _, n := range rep.Notes {
		if n.Kind == store.NoteBeyondEnd {
			notes = append(notes, n)
		}
	}
	if len(notes) != 1 || notes[0].Topic != topic || notes[0].From != 50 || notes[0].To != 0 || notes[0].Records != 0 {
		t.Errorf("report notes %+v, want one beyond-end note for %s/0 from 50 to 0", rep.Notes, topic)
	}
	log := r.p.log.String()
	if !strings.Contains(log, "stored position does not match the partition's log") || !strings.Contains(log, "level=WARN") {
		t.Errorf("no WARN line about the reset in the log")
	}
}

// stCreateRetry creates topic again, retrying while the broker still
// finishes deleting it.
func stCreateRetry(ctx context.Context, t *testing.T, adm *kadm.Client, topic string) {
	t.Helper()
	dmEventually(t, "the topic recreated", 30*time.Second, func() bool {
		resp, err := adm.CreateTopic(ctx, 1, 1, nil, topic)
		return err == nil && resp.Err == nil
	})
}
