package sample

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestPositionMismatchAtAssignment: a stored position beyond the
// partition's end (a recreated topic) or below its log start (retention
// overtook it) is detected at assignment, reset as on_position_mismatch
// says, recorded (the ledger's note, the counters) and reading resumes at
// the new place: the partition never stalls silently.
func TestPositionMismatchAtAssignment(t *testing.T) {
	tests := []struct {
		name       string
		stored     int64
		deleteTo   int64 // records below this offset are deleted (log start)
		onMismatch string
		kind       string
		reason     string
		to         int64 // where reading resumes
		unaudited  int64 // records never audited because of the reset
	}{
		{"beyond end, reset to start", 100, 0, MismatchStart, store.NoteBeyondEnd, ReasonBeyondEnd, 0, 0},
		{"beyond end, reset to end", 100, 0, MismatchEnd, store.NoteBeyondEnd, ReasonBeyondEnd, 10, 10},
		{"below start, reset to start", 2, 5, MismatchStart, store.NoteBelowStart, ReasonBelowStart, 5, 3},
		{"below start, reset to end", 2, 5, MismatchEnd, store.NoteBelowStart, ReasonBelowStart, 10, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const topic = "mismatch"
			c := kfaketest.Cluster(t, kfake.SeedTopics(1, topic))
			cl := manualProducer(t, c)
			for range 10 {
				produce(t, cl, rec(topic, 0, `{"event_id":"x"}`))
			}
			if tt.deleteTo > 0 {
				adm := kadm.NewClient(cl)
				o := kadm.Offsets{}
				o.Add(kadm.Offset{Topic: topic, Partition: 0, At: tt.deleteTo})
				if _, err := adm.DeleteRecords(context.Background(), o); err != nil {
					t.Fatal(err)
				}
			}
			l := newFakeLedger(true, map[string]map[int32]int64{topic: {0: tt.stored}})
			cfg := testConfig()
			cfg.OnPositionMismatch = tt.onMismatch
			s, reg := ledgerSampler(t, c, cfg, l)
			h := (&harness{t: t, c: c, reg: reg, s: s}).start()
			h.waitValue("eventwatch_sampler_position_resets_total", map[string]string{"reason": tt.reason}, 1)
			if tt.to < 10 {
				wait.For(t, "the partition read to its end from the reset position", func() bool { return l.end(0) == 10 })
			}
			l.protocolKept(t)
			l.mu.Lock()
			defer l.mu.Unlock()
			if len(l.resets) != 1 {
				t.Fatalf("resets %+v, want one", l.resets)
			}
			n := l.resets[0]
			if n.Kind != tt.kind || n.Topic != topic || n.Partition != 0 || n.From != tt.stored || n.To != tt.to || n.Records != tt.unaudited {
				t.Errorf("reset note %+v, want %s from %d to %d, %d records not audited", n, tt.kind, tt.stored, tt.to, tt.unaudited)
			}
			if l.acquired[0] != tt.to {
				t.Errorf("accounting acquired from %d, want %d", l.acquired[0], tt.to)
			}
			if len(l.observed[0]) > 0 && l.observed[0][0] != tt.to {
				t.Errorf("first audited offset %d, want %d", l.observed[0][0], tt.to)
			}
			if got := h.value("eventwatch_sampler_unaudited_records_total", map[string]string{"reason": tt.reason}); got != float64(tt.unaudited) {
				t.Errorf("unaudited records = %v, want %d", got, tt.unaudited)
			}
		})
	}
}
