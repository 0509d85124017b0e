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

	"github.com/eventwatch/eventwatch/internal/testutil/pgtest"
)

// dupProduce writes n compliant events with the ids numbered from first
// to partition part of topic: sent twice (to two partitions, or once
// before and once after a restart) they are producer duplicates.
func dupProduce(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, parts []int32, first, n int) {
	t.Helper()
	var recs []*kgo.Record
	for i := range n {
		for _, p := range parts {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: dmEvent(first+i, dmGoodType)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// dupWaitReport waits until the weekly report counts checked records,
// then wants exactly dups duplicate.event_id violations and every record
// compliant (the events break no error rule).
func dupWaitReport(ctx context.Context, t *testing.T, base string, checked, dups int64) {
	t.Helper()
	rep := exWaitChecked(ctx, t, base, checked) // duplicates commit with the counts of their records
	got, compliant, gotDups := rep.Summary.Checked, rep.Summary.Compliant, int64(0)
	for _, r := range rep.Rules {
		if r.Rule == "duplicate.event_id" {
			gotDups += r.Count
		}
	}
	if got != checked || gotDups != dups || compliant != checked {
		t.Fatalf("weekly report: checked %d, compliant %d, duplicate.event_id %d; want %d, %d, %d", got, compliant, gotDups, checked, checked, dups)
	}
	t.Logf("weekly report: checked %d, duplicate.event_id %d", got, gotDups)
}

// dupViolations is eventwatch_violations_total of duplicate.event_id
// summed over the processes of runs, once it reached want (it follows the
// commit the report reads).
func dupViolations(t *testing.T, want float64, runs ...*exRun) float64 {
	t.Helper()
	sum := func() float64 {
		var n float64
		for _, r := range runs {
			n += r.p.d.metric(t, "eventwatch_violations_total", `rule="duplicate.event_id"`)
		}
		return n
	}
	dmEventually(t, "the duplicate.event_id metric", 10*time.Second, func() bool { return sum() >= want })
	return sum()
}

// TestDuplicatesAcrossRestartsRealKafka: 100 event ids produced once,
// eventwatch killed with SIGKILL, the same ids produced again at new
// offsets while it is down: after the restart the weekly report holds 100
// duplicate.event_id (and the restarted process's metric counts them);
// the same with a SIGTERM restart; then records audited but not stored
// (the SQLite store locked) and read again after a kill -9 are no
// duplicates.
func TestDuplicatesAcrossRestartsRealKafka(t *testing.T) {
	b, ctx, dir, bin := dmRealKafka(t, 4*time.Minute)
	const topic = "huleedu.e2edup.restart.essay"
	dmCreateTopic(ctx, t, kadm.NewClient(b.Client(t)), topic)
	cl := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	extra := "sample:\n  group_id: dup\n  start_from: earliest\n  budget_per_partition: 1000000\n  metadata_refresh: 2s\n  commit_interval: 1s\n" +
		"  instance_id: dup-0\n  session_timeout: 10s\n  topics_include: ['huleedu\\.e2edup\\..*']\nstore:\n  flush_interval: 1s\n"
	runDir := filepath.Join(dir, "run")
	r := &exRun{t: t, ctx: ctx, bin: bin, broker: b.Addr(), dir: runDir, extra: extra, topics: []string{topic}}
	r.start()
	r.p.d.waitReady(t)

	// kill -9 between the two copies
	dupProduce(ctx, t, cl, topic, []int32{0}, 0, 100)
	dupWaitReport(ctx, t, r.p.d.url, 100, 0)
	r.kill()
	dupProduce(ctx, t, cl, topic, []int32{1}, 0, 100)
	r.start()
	dupWaitReport(ctx, t, r.p.d.url, 200, 100)
	if n := dupViolations(t, 100, r); n != 100 {
		t.Fatalf("restarted process: eventwatch_violations_total{rule=duplicate.event_id} = %v, want 100", n)
	}

	// SIGTERM between the two copies
	dupProduce(ctx, t, cl, topic, []int32{0}, 1000, 100)
	dupWaitReport(ctx, t, r.p.d.url, 300, 100)
	r.term()
	dupProduce(ctx, t, cl, topic, []int32{2}, 1000, 100)
	r.start()
	dupWaitReport(ctx, t, r.p.d.url, 400, 200)

	// records audited but never stored, read again after a kill -9: no
	// duplicates
	st := exSQLite(runDir)
	st.down(t)
	before := r.checked()
	dupProduce(ctx, t, cl, topic, []int32{1}, 2000, 100)
	dmEventually(t, "the new records audited into the buffer", 30*time.Second, func() bool { return r.checked() >= before+100 })
	r.kill()
	st.up(t)
	r.start()
	dupWaitReport(ctx, t, r.p.d.url, 500, 200)
	if n := dupViolations(t, 0, r); n != 0 {
		t.Fatalf("records read again after a crash: eventwatch_violations_total{rule=duplicate.event_id} = %v, want 0", n)
	}
}

// TestDuplicatesAcrossReplicasRealKafka: two replicas share one
// PostgreSQL store; each owns one partition of the topic. Every one of
// 100 event ids is produced to both partitions at once, so each copy is
// audited and flushed by another replica at the same moments: the weekly
// report holds exactly 100 duplicate.event_id, and the replicas' metrics
// count 100 between them. Then the owner of one partition, restarted with
// a flush interval it never reaches, audits 100 new ids and is killed with
// SIGKILL: the survivor takes the partition over and reads those 100 again,
// without a duplicate.
func TestDuplicatesAcrossReplicasRealKafka(t *testing.T) {
	b, ctx, dir, bin := dmRealKafka(t, 4*time.Minute)
	const topic, group = "huleedu.e2edupr.replicas.essay", "dupr"
	adm := kadm.NewClient(b.Client(t))
	dmCreateTopicN(ctx, t, adm, topic, 2)
	cl := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	dsn := pgtest.Start(t).NewDatabase(t)
	runs := make([]*exRun, 2)
	for i := range runs {
		extra := fmt.Sprintf("sample:\n  group_id: %s\n  start_from: earliest\n  budget_per_partition: 1000000\n  metadata_refresh: 2s\n  commit_interval: 1s\n"+
			"  instance_id: dupr-%d\n  session_timeout: 10s\n  topics_include: ['huleedu\\.e2edupr\\..*']\nstore:\n  flush_interval: 1s\n  dsn: %q\n", group, i, dsn)
		runs[i] = &exRun{t: t, ctx: ctx, bin: bin, broker: b.Addr(), dir: filepath.Join(dir, fmt.Sprint(i)), extra: extra, topics: []string{topic}}
		runs[i].start()
	}
	for _, r := range runs {
		r.p.d.waitReady(t)
	}
	owner := dupOwners(ctx, t, adm, group, topic)

	dupProduce(ctx, t, cl, topic, []int32{0, 1}, 0, 100)
	dupWaitReport(ctx, t, runs[0].p.d.url, 200, 100)
	for i, r := range runs {
		if r.checked() != 100 {
			t.Fatalf("replica %d audited %v records, want 100 (one partition each)", i, r.checked())
		}
	}
	if metric := dupViolations(t, 100, runs...); metric != 100 {
		t.Fatalf("eventwatch_violations_total{rule=duplicate.event_id} over both replicas = %v, want 100", metric)
	}

	// The owner of partition 0 restarts (SIGTERM) with a flush interval
	// it never reaches, audits 100 new records and is killed: the survivor
	// takes the partition over and reads all 100 again.
	victim, survivor := runs[owner[0]], runs[1-owner[0]]
	victim.term()
	victim.extra = strings.Replace(victim.extra, "flush_interval: 1s", "flush_interval: 1h", 1)
	victim.start()
	victim.p.d.waitReady(t)
	if again := dupOwners(ctx, t, adm, group, topic); again[0] != owner[0] {
		t.Fatalf("partition 0 moved to replica %d on a static member's restart", again[0])
	}
	dupProduce(ctx, t, cl, topic, []int32{0}, 5000, 100)
	dmEventually(t, "partition 0's new records audited by its owner", 30*time.Second, func() bool { return victim.checked() >= 100 })
	before, dupsBefore := survivor.checked(), dupViolations(t, 0, survivor)
	victim.kill()
	dupWaitReport(ctx, t, survivor.p.d.url, 300, 100)
	if reread := survivor.checked() - before; reread != 100 {
		t.Fatalf("the survivor audited %v records of partition 0, want the 100 the killed replica never stored", reread)
	}
	if n := dupViolations(t, 0, survivor); n != dupsBefore {
		t.Fatalf("records read again by the survivor: its eventwatch_violations_total{rule=duplicate.event_id} went from %v to %v", dupsBefore, n)
	}
}

// dupOwners waits until each of the group's two members owns one of the
// topic's two partitions and returns, per partition, the index of its
// owner (the instance id dupr-<i>).
func dupOwners(ctx context.Context, t *testing.T, adm *kadm.Client, group, topic string) map[int32]int {
	t.Helper()
	owner := map[int32]int{}
	dmEventually(t, "each replica owning one partition", 60*time.Second, func() bool {
		clear(owner)
		described, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return false
		}
		g := described[group]
		if g.Err != nil || g.State != "Stable" {
			return false
		}
		for _, m := range g.Members {
			a, ok := m.Assigned.AsConsumer()
			if !ok || m.InstanceID == nil {
				continue
			}
			var idx int
			if _, err := fmt.Sscanf(*m.InstanceID, "dupr-%d", &idx); err != nil {
				continue
			}
			for _, tp := range a.Topics {
				if tp.Topic != topic {
					continue
				}
				for _, p := range tp.Partitions {
					owner[p] = idx
				}
			}
		}
		return len(owner) == 2 && owner[0] != owner[1]
	})
	t.Logf("partition owners: %v", owner)
	return owner
}
