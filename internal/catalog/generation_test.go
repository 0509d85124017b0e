package catalog

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/eventwatch/eventwatch/internal/event"
)

// TestGenerationFollowsState: every record that changes the learner's
// State moves its generation (the AsyncAPI share publishes on that), and a
// record that changes nothing — a tombstone, a dead letter on a topic
// beyond the bound — leaves both as they were.
func TestGenerationFollowsState(t *testing.T) {
	recs := fixedTraffic()
	l, _ := learnTraffic(t, recs[:5], nil)
	gen, st := l.Generation(), l.State()
	if gen == 0 {
		t.Fatal("generation 0 after five records")
	}
	l.Observe(recs[0], &event.Result{Tombstone: true})
	if l.Generation() != gen || !reflect.DeepEqual(l.State(), st) {
		t.Fatal("a tombstone changed the generation or the state")
	}
	for i, r := range recs[5:] {
		res := event.Result{EventType: "content.book.published", Version: "1.0", Source: "content-service"}
		before := l.State()
		l.Observe(r, &res)
		if reflect.DeepEqual(l.State(), before) {
			t.Fatalf("record %d changed nothing", i)
		}
		if g := l.Generation(); g == gen {
			t.Fatalf("record %d changed the state but not the generation", i)
		} else {
			gen = g
		}
	}
	full := NewLearner("data", func(string) bool { return false })
	for i := range maxTopics {
		full.Observe(&event.Record{Topic: fmt.Sprintf("t%05d", i)}, &event.Result{})
	}
	gen, st = full.Generation(), full.State()
	full.Observe(&event.Record{Topic: "beyond-the-bound"}, &event.Result{DeadLetter: true, EventType: "x", Version: "1"})
	if full.Generation() != gen || !reflect.DeepEqual(full.State(), st) {
		t.Error("a dead letter on a topic beyond the bound changed the generation or the state")
	}
	full.Observe(&event.Record{Topic: "beyond-the-bound"}, &event.Result{EventType: "x", Version: "1"})
	if full.Generation() == gen || reflect.DeepEqual(full.State(), st) {
		t.Error("an event on a topic beyond the bound: want state and generation changed")
	}
}
