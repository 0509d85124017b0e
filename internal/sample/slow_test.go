package sample

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// An auditor that hangs does not stall the consumer: every record is still
// observed, the overflow is dropped and counted, the group generation stays
// the same across several session timeouts, and nothing is revoked.
func TestSamplerSlowAuditorNoRebalance(t *testing.T) {
	const session = time.Second
	c := kfaketest.Cluster(t, kfake.SeedTopics(1, "slow"), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	cfg := testConfig()
	cfg.Workers, cfg.MaxQueue = 1, 4
	a := &fakeAuditor{block: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(a.block)
		}
	}
	t.Cleanup(release) // before the harness stops (cleanups run last-in first-out)
	h := newHarnessOpts(t, c, cfg, a, []kgo.Opt{kgo.SessionTimeout(session), kgo.HeartbeatInterval(100 * time.Millisecond)}).start()
	h.waitAssigned(1)
	wait.For(t, "group generation", func() bool { return h.s.Status().Generation > 0 })
	gen := h.s.Status().Generation

	pr := manualProducer(t, c)
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, rec("slow", 0, fmt.Sprintf(`{"event_id":"%d"}`, i)))
	}
	produce(t, pr, recs...)

	topic := map[string]string{"topic": "slow"}
	h.waitValue("eventwatch_records_observed_total", topic, 40)
	if got := h.value("eventwatch_sampler_dropped_records_total", map[string]string{"reason": DropQueueFull}); got < 30 {
		t.Errorf("dropped queue_full = %v, want >= 30 while the auditor hangs", got)
	}

	// Stay blocked for three session timeouts: a stalled member would be
	// kicked out and the group would move to a new generation.
	<-time.After(3 * session)
	if st := h.s.Status(); st.Generation != gen || st.AssignedPartitions != 1 {
		t.Errorf("after a hanging audit: generation %d (was %d), assigned %d; want unchanged", st.Generation, gen, st.AssignedPartitions)
	}
	if got := h.value("eventwatch_sampler_rebalances_total", map[string]string{"event": "revoked"}); got != 0 {
		t.Errorf("revocations = %v, want 0", got)
	}
	if got := h.value("eventwatch_sampler_rebalances_total", map[string]string{"event": "lost"}); got != 0 {
		t.Errorf("lost = %v, want 0", got)
	}

	release()
	dropped := h.value("eventwatch_sampler_dropped_records_total", map[string]string{"reason": DropQueueFull})
	h.waitValue("eventwatch_records_checked_total", topic, 40-dropped)
}
