package sample

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/testutil/kfaketest"
	"github.com/eventwatch/eventwatch/internal/testutil/wait"
)

// TestAdminClosesWhenIdle: the admin client opens on first use, stays open
// while used, closes once unused for its idle time (an idle timer armed
// before a later use does nothing), opens again for the next use, and
// refuses uses after close.
func TestAdminClosesWhenIdle(t *testing.T) {
	t.Parallel()
	c := kfaketest.Cluster(t, kfake.SeedTopics(3, "a"))
	a := newAdmin([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, 20*time.Millisecond)
	t.Cleanup(a.close)
	if a.isOpen() {
		t.Fatal("open before the first use")
	}
	list := func() {
		t.Helper()
		adm, release, err := a.acquire()
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		defer release()
		ends, err := adm.ListEndOffsets(context.Background(), "a")
		if err != nil || len(ends["a"]) != 3 {
			t.Fatalf("list end offsets: %v, %v", ends, err)
		}
	}
	list()
	wait.For(t, "the admin client closed once idle", func() bool { return !a.isOpen() })
	list()

	_, first, err := a.acquire()
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := a.acquire()
	if err != nil {
		t.Fatal(err)
	}
	first()
	first() // a second release of one use counts once
	a.mu.Lock()
	stale := a.gen - 1
	a.mu.Unlock()
	a.closeIdle(stale)
	a.closeIdle(stale + 1) // the current generation, but one use still holds it
	if !a.isOpen() {
		t.Fatal("closed while a use still holds it")
	}
	second()
	wait.For(t, "closed once the last use released it", func() bool { return !a.isOpen() })

	a.close()
	if _, _, err := a.acquire(); !errors.Is(err, errAdminClosed) {
		t.Fatalf("acquire after close: %v, want errAdminClosed", err)
	}
}

// TestSamplerAdminNotKeptForLife: with a ledger, the sampler's admin
// client (which lists every watched partition at the group's first start)
// is closed once the group settled, and opened again when needed: while
// fetching is paused the lag gauge still comes from listed end offsets.
func TestSamplerAdminNotKeptForLife(t *testing.T) {
	t.Parallel()
	const topic = "idle-admin"
	c := kfaketest.Cluster(t, kfake.SeedTopics(2, topic))
	cl := manualProducer(t, c)
	for i := range 6 {
		produce(t, cl, rec(topic, int32(i%2), `{"event_id":"x"}`))
	}
	l := newFakeLedger(false, nil)
	cfg := testConfig()
	cfg.StartFrom = StartEarliest
	s, reg := ledgerSampler(t, c, cfg, l)
	s.admIdle = 50 * time.Millisecond
	h := (&harness{t: t, c: c, reg: reg, s: s}).start()
	wait.For(t, "both partitions read to their end", func() bool { return l.end(0) == 3 && l.end(1) == 3 })
	wait.For(t, "the admin client closed once the group settled", func() bool { return !s.adm.isOpen() })

	l.mu.Lock()
	l.saturated = true
	l.mu.Unlock()
	wait.For(t, "fetching paused", func() bool { return h.s.Status().Paused })
	for range 5 {
		produce(t, cl, rec(topic, 0, `{"event_id":"y"}`))
	}
	h.waitValue("eventwatch_sampler_lag_records", map[string]string{"topic": topic}, 5)
	l.mu.Lock()
	l.saturated = false
	l.mu.Unlock()
	wait.For(t, "the records produced while paused, after resuming", func() bool { return l.end(0) == 8 })
	wait.For(t, "the admin client closed again", func() bool { return !s.adm.isOpen() })
	l.protocolKept(t)
}
