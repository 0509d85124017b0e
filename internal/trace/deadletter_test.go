package trace

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/readers"
	"github.com/eventwatch/eventwatch/internal/testutil/enginetest"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// The flow of the dead-letter tests: the orchestrator's event, the essay
// service's event it caused, both traced.
const (
	dlCorr      = "9b0e7d1c-2f4a-4c2e-8d6b-5a4f3e2d1c0b"
	dlBatch     = "huleedu.dev.batchorchestration.batch"
	dlEssay     = "huleedu.dev.essaylifecycle.essay"
	dlEssayDLQ  = "huleedu.dev.essaylifecycle.essay.dlq" // a huleedu dead-letter topic (*.dlq)
	dlConnect   = "connect.errors.batches"               // no dead-letter topic name: its headers tell
	dlBatchID   = "11111111-8a51-4d3b-9a53-1d2f0b7c6e11"
	dlEssayID   = "3f1c2a9e-8a51-4d3b-9a53-1d2f0b7c6e11"
	dlBatchType = "huleedu.batchorchestration.batch.pipelines_configured.v1"
	dlEssayType = "huleedu.essaylifecycle.essay.spellcheck_requested.v1"
)

func dlValue(id, typ, source string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"event_id":%q,"event_type":%q,"event_timestamp":%q,"source_service":%q,"correlation_id":%q,"data":{}}`,
		id, typ, at.Format(time.RFC3339Nano), source, dlCorr)
}

// dlRecords are the two events, a Spring DeadLetterPublishingRecoverer
// copy of the essay event (the original value and headers as is, the
// kafka_dlt-* headers Spring writes, on the dead-letter topic) and a Kafka
// Connect dead-letter copy of the batch event (__connect.errors.* headers,
// on a topic no dead-letter pattern names).
func dlRecords() (batch, essay, spring, connect *event.Record) {
	tpBatch, tpEssay := tp(traceA, spanA1), tp(traceA, spanA2)
	batch = &event.Record{Topic: dlBatch, Partition: 0, Offset: 10, Key: []byte("batch-1"), Timestamp: t0,
		Value: dlValue(dlBatchID, dlBatchType, "batch_orchestrator_service", t0), Headers: []event.Header{{Key: "traceparent", Value: []byte(tpBatch)}}}
	at := t0.Add(150 * time.Millisecond)
	essay = &event.Record{Topic: dlEssay, Partition: 1, Offset: 4, Key: []byte("essay-42"), Timestamp: at,
		Value: dlValue(dlEssayID, dlEssayType, "essay_lifecycle_service", at), Headers: []event.Header{{Key: "traceparent", Value: []byte(tpEssay)}}}
	be32, be64, ts := make([]byte, 4), make([]byte, 8), make([]byte, 8)
	binary.BigEndian.PutUint32(be32, 1)
	binary.BigEndian.PutUint64(be64, 4)
	binary.BigEndian.PutUint64(ts, uint64(at.UnixMilli()))
	spring = &event.Record{Topic: dlEssayDLQ, Partition: 0, Offset: 0, Key: essay.Key, Timestamp: at.Add(5 * time.Second), Value: essay.Value,
		Headers: []event.Header{
			{Key: "traceparent", Value: []byte(tpEssay)},
			{Key: "kafka_dlt-exception-fqcn", Value: []byte("org.springframework.kafka.listener.ListenerExecutionFailedException")},
			{Key: "kafka_dlt-exception-cause-fqcn", Value: []byte("java.lang.IllegalStateException")},
			{Key: "kafka_dlt-exception-message", Value: []byte("listener failed; spellcheck service unavailable")},
			{Key: "kafka_dlt-exception-stacktrace", Value: []byte("java.lang.IllegalStateException: spellcheck service unavailable\n\tat ...")},
			{Key: "kafka_dlt-original-topic", Value: []byte(dlEssay)},
			{Key: "kafka_dlt-original-partition", Value: be32},
			{Key: "kafka_dlt-original-offset", Value: be64},
			{Key: "kafka_dlt-original-timestamp", Value: ts},
			{Key: "kafka_dlt-original-timestamp-type", Value: []byte("CreateTime")},
			{Key: "kafka_dlt-original-consumer-group", Value: []byte("spell_checker_service")},
		}}
	connect = &event.Record{Topic: dlConnect, Partition: 0, Offset: 7, Key: batch.Key, Timestamp: t0.Add(6 * time.Second), Value: batch.Value,
		Headers: []event.Header{
			{Key: "traceparent", Value: []byte(tpBatch)},
			{Key: "__connect.errors.topic", Value: []byte(dlBatch)},
			{Key: "__connect.errors.partition", Value: []byte("0")},
			{Key: "__connect.errors.offset", Value: []byte("10")},
			{Key: "__connect.errors.connector.name", Value: []byte("essays-sink")},
			{Key: "__connect.errors.task.id", Value: []byte("0")},
			{Key: "__connect.errors.stage", Value: []byte("VALUE_CONVERTER")},
			{Key: "__connect.errors.class.name", Value: []byte("org.apache.kafka.connect.json.JsonConverter")},
			{Key: "__connect.errors.exception.class.name", Value: []byte("org.apache.kafka.connect.errors.DataException")},
			{Key: "__connect.errors.exception.message", Value: []byte("Converting byte[] to Kafka Connect data failed")},
		}}
	return batch, essay, spring, connect
}

// audited runs rec through the huleedu audit engine, as the daemon does.
func audited(t *testing.T, rec *event.Record) (*event.Record, *event.Result) {
	t.Helper()
	res := enginetest.Engine(t, "huleedu", audit.Options{}).Check(rec)
	return rec, &res
}

// TestDeadLetterCopyIsNoHop: a dead-letter copy carries its original's
// event id, type, correlation id and trace context. It is not a hop of the
// flow, not a duplicate of the original (not dropped as one, no
// redelivery handed to the idempotency check), and whether it arrives
// after or before its original the chain is the two events with one hop.
// While the chain is open the copy is noted on the event it copies.
func TestDeadLetterCopyIsNoHop(t *testing.T) {
	batch, essay, spring, connect := dlRecords()
	for _, tc := range []struct {
		name  string
		order []*event.Record
		noted bool // the copies arrive while the originals' chain is open
	}{
		{"copies after their originals", []*event.Record{batch, essay, spring, connect}, true},
		{"copies before their originals", []*event.Record{spring, connect, batch, essay}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{Window: time.Minute})
			var got []Causation
			f.s.OnCausation(func(c Causation) { got = append(got, c) })
			for _, rec := range tc.order {
				r, res := audited(t, rec)
				if res.DeadLetter != (rec == spring || rec == connect) || res.EventID == "" {
					t.Fatalf("%s: audit result dead letter %t, id %q", rec.Topic, res.DeadLetter, res.EventID)
				}
				f.s.Observe(r, res)
				f.s.ingest(<-f.s.in, f.clk.now)
			}
			f.closeAll()
			r := f.s.Flows()
			if len(r.Pathways) != 1 || r.Pathways[0].Pathway != "batch_orchestrator_service>essay_lifecycle_service" || r.Pathways[0].Count != 1 {
				t.Fatalf("pathways %+v, want one batch_orchestrator_service>essay_lifecycle_service", r.Pathways)
			}
			if len(got) != 1 || len(got[0].Events) != 2 || got[0].Events[1].Upstream != 0 || len(got[0].Redelivered) != 0 {
				t.Fatalf("causation %+v, want the two events, the essay caused by the batch, nothing redelivered", got)
			}
			for _, e := range got[0].Events {
				if e.Topic == dlEssayDLQ || e.Topic == dlConnect {
					t.Fatalf("a dead-letter copy was stitched as an event: %+v", e)
				}
			}
			if d := counter(t, f.reg, "eventwatch_trace_dropped_total", map[string]string{"reason": dropDuplicate}); d != 0 {
				t.Errorf("dropped as duplicate: %v, want 0", d)
			}
			if n := counter(t, f.reg, "eventwatch_trace_dead_letters_total", nil); n != 2 || r.DeadLetters != 2 {
				t.Errorf("dead letters counted %v, on /api/v1/flows %d; want 2", n, r.DeadLetters)
			}
			if n := counter(t, f.reg, "eventwatch_propagation_events_total", map[string]string{"service": "batch_orchestrator_service"}); n != 1 {
				t.Errorf("propagation counts %v events of batch_orchestrator_service, want 1 (its copy is not its event)", n)
			}
			evs := r.RecentChains[0].Events
			wantSpring, wantConnect := &RecordPos{Topic: dlEssayDLQ, Offset: 0}, &RecordPos{Topic: dlConnect, Offset: 7}
			if !tc.noted {
				wantSpring, wantConnect = nil, nil
			}
			if !samePos(evs[0].DeadLetter, wantConnect) || !samePos(evs[1].DeadLetter, wantSpring) {
				t.Errorf("dead_letter of the events: %+v, %+v; want %+v, %+v", evs[0].DeadLetter, evs[1].DeadLetter, wantConnect, wantSpring)
			}
		})
	}
}

func samePos(a, b *RecordPos) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// TestDeadLetterCopyRouted: with routing, the copy travels to its chain's
// owner like an event (marked on the wire) and is noted and counted there
// once, not stitched.
func TestDeadLetterCopyRouted(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.NumBrokers(1))
	r := startReplica(t, c, routedConfig("hops-deadletter"))
	waitOwned(t, 8, r)
	batch, essay, spring, _ := dlRecords()
	for _, rec := range []*event.Record{batch, essay, spring} {
		r.s.Observe(audited(t, rec))
	}
	waitClosed(t, 1, r)
	wait.Within(t, 10*time.Second, "the closed chain among the recent ones", func() bool { return len(r.s.FlowsDoc().Recent) == 1 })
	doc := r.s.FlowsDoc()
	evs := doc.Recent[0].Events
	if len(evs) != 2 || doc.DeadLetters != 1 || !samePos(evs[1].DeadLetter, &RecordPos{Topic: dlEssayDLQ}) {
		t.Fatalf("routed chain %+v, dead letters %d; want the two events, the essay's copy noted, 1 counted", evs, doc.DeadLetters)
	}
}

// idemRecord is a HuleEdu event of the idempotency scenario, correlated by
// chain, traced in trace.
func idemRecord(topic string, offset int64, id, typ, source, chain, trace string, at time.Time) *event.Record {
	v := fmt.Appendf(nil, `{"event_id":%q,"event_type":%q,"event_timestamp":%q,"source_service":%q,"correlation_id":%q,"data":{}}`,
		id, typ, at.Format(time.RFC3339Nano), source, chain)
	return &event.Record{Topic: topic, Offset: offset, Key: []byte(id), Timestamp: at, Value: v,
		Headers: []event.Header{{Key: "traceparent", Value: []byte(tp(trace, spanA1))}}}
}

// TestDeadLetterIsNoRedelivery: the idempotency check (internal/readers)
// must never read a dead-letter copy as a redelivery of the input. The
// spell checker emits one event per essay; on the essay it fails on it
// emits two (a failure event and an alert) and dead-letters the essay the
// Spring way: it received that essay once, so it is not "not idempotent"
// (no redelivered input: not observable). The control case, a real
// producer duplicate of an essay that makes it emit twice, is.
func TestDeadLetterIsNoRedelivery(t *testing.T) {
	const essays, results, dlq = "essays", "spellcheck.results", "essays.dlq"
	const reqType, doneType, failType, alertType = "huleedu.essay.spellcheck_requested.v1", "huleedu.spellchecker.essay.spellcheck_completed.v1",
		"huleedu.spellchecker.essay.spellcheck_failed.v1", "huleedu.spellchecker.essay.flagged.v1"
	for _, tc := range []struct {
		name     string
		deadLtr  bool // the last essay is dead-lettered (else: produced twice)
		want     string
		wantPair bool
	}{
		{"dead-lettered input", true, "", false},
		{"producer duplicate (control)", false, readers.VerdictNotIdempotent, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{Window: time.Minute})
			checker := readers.NewChecker(func(service, _ string) string { return service }, nil, prometheus.NewRegistry())
			f.s.OnCausation(func(c Causation) { checker.Observe(readersChain(c)) })
			feed := func(rec *event.Record) {
				r, res := audited(t, rec)
				f.s.Observe(r, res)
				f.s.ingest(<-f.s.in, f.clk.now)
			}
			for i := range 4 {
				chain, trace := fmt.Sprintf("chain-%d", i), fmt.Sprintf("%032x", i+1)
				at := t0.Add(time.Duration(i) * time.Second)
				in := idemRecord(essays, int64(i), fmt.Sprintf("essay-%d", i), reqType, "essay_lifecycle_service", chain, trace, at)
				feed(in)
				if i < 3 { // succeeds: one event
					feed(idemRecord(results, int64(10*i), fmt.Sprintf("done-%d", i), doneType, "spell_checker_service", chain, trace, at.Add(100*time.Millisecond)))
					continue
				}
				if tc.deadLtr { // fails: a failure event, an alert, and the essay dead-lettered as is
					feed(idemRecord(results, 30, "failed-3", failType, "spell_checker_service", chain, trace, at.Add(100*time.Millisecond)))
					feed(idemRecord(results, 31, "flagged-3", alertType, "spell_checker_service", chain, trace, at.Add(120*time.Millisecond)))
					copied := *in
					copied.Topic, copied.Offset = dlq, 0
					copied.Headers = append(copied.Headers, event.Header{Key: "kafka_dlt-exception-fqcn", Value: []byte("java.lang.IllegalStateException")},
						event.Header{Key: "kafka_dlt-original-topic", Value: []byte(essays)})
					feed(&copied)
					continue
				}
				dup := *in // the producer retried: the same essay again, at the next offset, and it relays both
				dup.Offset = 4
				feed(&dup)
				feed(idemRecord(results, 30, "done-3a", doneType, "spell_checker_service", chain, trace, at.Add(100*time.Millisecond)))
				feed(idemRecord(results, 31, "done-3b", doneType, "spell_checker_service", chain, trace, at.Add(150*time.Millisecond)))
			}
			f.closeAll()
			got := checker.Results()
			if !tc.wantPair {
				if len(got) != 0 {
					t.Fatalf("verdicts %+v; a consumer that dead-letters an input it received once has no redelivered input (not observable)", got)
				}
				return
			}
			if len(got) != 1 || got[0].Group != "spell_checker_service" || got[0].Verdict != tc.want || got[0].Redelivered != 1 {
				t.Fatalf("verdicts %+v, want spell_checker_service %s on one redelivered input", got, tc.want)
			}
		})
	}
}

// readersChain is what the daemon hands the idempotency check of a closed
// chain (internal/daemon chainOf).
func readersChain(c Causation) readers.Chain {
	out := readers.Chain{Events: make([]readers.Event, len(c.Events)), Redelivered: c.Redelivered}
	for i, e := range c.Events {
		out.Events[i] = readers.Event{ID: e.EventID, Type: e.EventType, Service: e.Service, Topic: e.Topic,
			Partition: e.Partition, Offset: e.Offset, Upstream: e.Upstream}
	}
	return out
}
