package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRuleDuplicate(t *testing.T) {
	now := testNow
	e := newTestEngine(t, "huleedu", func(o *Options) { o.Now = func() time.Time { return now }; o.DuplicateWindow = time.Minute })
	r := hule(nil)
	if _, ok := findViolation(e.Check(&r), "duplicate.event_id"); ok {
		t.Fatal("first sighting reported as duplicate")
	}
	again := r
	again.Offset++
	v, ok := findViolation(e.Check(&again), "duplicate.event_id")
	if !ok || v.Field != "event_id" || v.Severity != event.SeverityWarning {
		t.Fatalf("second sighting: %+v %v", v, ok)
	}
	now = now.Add(3 * time.Minute)
	other := hule(map[string]string{"event_id": `"11111111-1111-4111-8111-111111111111"`})
	e.Check(&other)
	now = now.Add(3 * time.Minute)
	if _, ok := findViolation(e.Check(&again), "duplicate.event_id"); ok {
		t.Fatal("id older than two windows still remembered")
	}
}

// TestRuleDuplicateReRead: reading the same record again (same topic,
// partition and offset, as after a rebalance or a broker fault) is not a
// duplicate, in either generation of the window; the same id at another
// offset or partition is, and bare events without a topic repeat as
// duplicates.
func TestRuleDuplicateReRead(t *testing.T) {
	now := testNow
	e := newTestEngine(t, "huleedu", func(o *Options) { o.Now = func() time.Time { return now }; o.DuplicateWindow = time.Minute })
	r := hule(nil)
	r.Partition, r.Offset = 2, 40
	for i := range 3 {
		if _, ok := findViolation(e.Check(&r), "duplicate.event_id"); ok {
			t.Fatalf("read %d of the same record reported as duplicate", i+1)
		}
		now = now.Add(40 * time.Second) // the second read finds the id in the previous generation
	}
	for _, loc := range []struct {
		p   int32
		off int64
	}{{2, 41}, {3, 40}} {
		other := r
		other.Partition, other.Offset = loc.p, loc.off
		if _, ok := findViolation(e.Check(&other), "duplicate.event_id"); !ok {
			t.Fatalf("producer duplicate at partition %d offset %d not reported", loc.p, loc.off)
		}
	}
	bare := event.Record{Value: huleEvent(map[string]string{"event_id": `"22222222-2222-4222-8222-222222222222"`})}
	e.Check(&bare)
	if _, ok := findViolation(e.Check(&bare), "duplicate.event_id"); !ok {
		t.Fatal("repeated bare event not reported as duplicate")
	}
}

func TestDupWindowBounded(t *testing.T) {
	d := newDupWindow(0, 64)
	for i := 0; i < 10000; i++ {
		d.seen([]byte(fmt.Sprint("id-", i)), 0, testNow)
	}
	total := 0
	for i := range d.shards {
		total += d.shards[i].gens.remembered()
	}
	if total > 64+2*dupShards {
		t.Fatalf("remembered %d ids, bound is 64", total)
	}
	if !d.seen([]byte("id-9999"), 0, testNow) {
		t.Fatal("most recent id forgotten")
	}
}

func TestDupWindowConcurrent(t *testing.T) {
	e := newTestEngine(t, "huleedu")
	var wg sync.WaitGroup
	var mu sync.Mutex
	dups := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r := hule(map[string]string{"event_id": fmt.Sprintf(`"00000000-0000-4000-8000-%012d"`, i)})
				r.Offset = int64(g)
				if _, ok := findViolation(e.Check(&r), "duplicate.event_id"); ok {
					mu.Lock()
					dups++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if dups != 7*200 {
		t.Fatalf("duplicates = %d, want %d (each id seen 8 times)", dups, 7*200)
	}
}

// TestRuleDuplicateIDCheck: every record with an event id carries its id
// hash and location for the ledger's persisted window: the same id hashes
// alike in two engines of one profile (two processes or replicas) and
// differently under another profile; a re-read keeps its location, a copy
// at another offset gets another and is flagged by the in-process window;
// a waived or disabled rule leaves IDCheck empty.
func TestRuleDuplicateIDCheck(t *testing.T) {
	a, b := newTestEngine(t, "huleedu"), newTestEngine(t, "huleedu")
	r := hule(nil)
	first := a.Check(&r).IDCheck
	if first.Hash == 0 || first.Loc == 0 || first.Flagged || first.Severity != event.SeverityWarning || first.Field != "event_id" {
		t.Fatalf("first copy: %+v", first)
	}
	if got := b.Check(&r).IDCheck; got.Hash != first.Hash || got.Loc != first.Loc || got.Flagged {
		t.Fatalf("same record in another engine: %+v, want hash and location of %+v", got, first)
	}
	if got := a.Check(&r).IDCheck; got.Loc != first.Loc || got.Flagged {
		t.Fatalf("re-read: %+v", got)
	}
	copy2 := r
	copy2.Offset++
	if got := a.Check(&copy2).IDCheck; got.Hash != first.Hash || got.Loc == first.Loc || !got.Flagged {
		t.Fatalf("copy at another offset: %+v", got)
	}
	other := hule(map[string]string{"event_id": `"33333333-3333-4333-8333-333333333333"`})
	if got := a.Check(&other).IDCheck; got.Hash == first.Hash {
		t.Fatal("two ids with one hash")
	}
	aw := newTestEngine(t, "authorworks")
	if got := aw.Check(&r).IDCheck; got.Hash == first.Hash {
		t.Fatal("the stored id hash does not depend on the profile")
	}
	waived := newTestEngine(t, "huleedu", func(o *Options) {
		p := *o.Profile
		p.Waivers = append(p.Waivers, policy.Waiver{Topic: "*", Rule: event.RuleDuplicateEventID, Reason: "test", Expires: testNow.Add(time.Hour)})
		o.Profile = &p
	})
	if got := waived.Check(&r).IDCheck; got != (event.IDCheck{}) {
		t.Fatalf("rule waived: %+v", got)
	}
	data, err := policy.BuiltinPolicy("huleedu")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.ParsePolicy("off.yaml", []byte(strings.Replace(string(data), "severities:\n", "severities:\n  duplicate.event_id: \"off\"\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	off := newTestEngine(t, "huleedu", func(o *Options) { o.Profile = p })
	if got := off.Check(&r).IDCheck; got != (event.IDCheck{}) {
		t.Fatalf("rule off: %+v", got)
	}
}

// TestRuleDuplicateOutsideWindow: a copy further than the window from the
// first (record time) is no duplicate, though the first is still
// remembered (the previous generation), and it owns the id from then on:
// its own copy within the window is one. The report store judges alike.
func TestRuleDuplicateOutsideWindow(t *testing.T) {
	now := testNow
	e := newTestEngine(t, "huleedu", func(o *Options) { o.Now = func() time.Time { return now }; o.DuplicateWindow = time.Minute })
	r := hule(nil)
	e.Check(&r)
	now = now.Add(90 * time.Second)
	late := r
	late.Offset = 7
	if _, ok := findViolation(e.Check(&late), "duplicate.event_id"); ok {
		t.Fatal("copy 90s after the first, window 1m: reported as duplicate")
	}
	now = now.Add(10 * time.Second)
	again := r
	again.Offset = 8
	if _, ok := findViolation(e.Check(&again), "duplicate.event_id"); !ok {
		t.Fatal("copy 10s after the late copy: not reported")
	}
}

// TestRuleDuplicateSkipsDeadLetterCopies: a dead-letter copy that carries
// its original as is, on a topic no dead-letter pattern names (known by
// its Spring or Connect headers), repeats the original's id by design: no
// duplicate.event_id, and no id handed to the ledger to judge later. The
// same id at another offset without those headers still is a duplicate.
func TestRuleDuplicateSkipsDeadLetterCopies(t *testing.T) {
	e := newTestEngine(t, "huleedu", func(o *Options) { o.Now = func() time.Time { return testNow }; o.DuplicateWindow = time.Minute })
	r := hule(nil)
	e.Check(&r)
	for _, h := range []string{"kafka_dlt-original-topic", "__connect.errors.topic"} {
		copied := r
		copied.Topic, copied.Offset = "essays-failed", 7
		copied.Headers = []event.Header{{Key: h, Value: []byte(r.Topic)}}
		res := e.Check(&copied)
		if v, ok := findViolation(res, "duplicate.event_id"); ok || res.IDCheck.Hash != 0 || !res.DeadLetter {
			t.Errorf("%s copy: duplicate %+v (%t), id check %+v, dead letter %t; want none, none, true", h, v, ok, res.IDCheck, res.DeadLetter)
		}
	}
	again := r
	again.Offset++
	if _, ok := findViolation(e.Check(&again), "duplicate.event_id"); !ok {
		t.Error("a producer duplicate is no longer reported")
	}
}
