package dlq

import (
	"sort"
	"time"
)

// TopicCauses is the triage of one dead-letter topic, as GET /api/v1/dlq
// answers it.
type TopicCauses struct {
	Topic     string      `json:"topic"`      // dead-letter topic
	Records   int64       `json:"records"`    // dead letters read (from the log start when eventwatch started)
	FirstSeen time.Time   `json:"first_seen"` // oldest record timestamp
	LastSeen  time.Time   `json:"last_seen"`  // newest record timestamp
	Causes    []CauseView `json:"causes"`     // by count, largest first
}

// CauseView is one cause with its numbers.
type CauseView struct {
	CauseKey
	ExceptionClass string    `json:"exception_class,omitempty"` // exception class as the letters name it
	Count          int64     `json:"count"`                     // dead letters of this cause
	FirstSeen      time.Time `json:"first_seen"`                // oldest record timestamp
	LastSeen       time.Time `json:"last_seen"`                 // newest record timestamp
	Last24h        int64     `json:"last_24h"`                  // dead letters in the last 24 hours
	Previous24h    int64     `json:"previous_24h"`              // in the 24 hours before
	Trend          string    `json:"trend"`                     // rising, falling, steady, new or quiet (last 24h against the 24h before)
	Samples        []Sample  `json:"samples"`                   // newest first
}

// Filter selects causes for a query; zero fields select everything.
type Filter struct {
	Topic      string          // one dead-letter topic
	ErrorClass string          // one error class
	Services   map[string]bool // owning services (a team's); nil means all
	From, To   time.Time       // cause counts within [From, To) by record hour; zero means all time
}

// Snapshot returns the triage of every dead-letter topic f selects,
// sorted by topic.
func (t *Triage) Snapshot(f Filter) []TopicCauses {
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := []TopicCauses{}
	for name, tt := range t.topics {
		if f.Topic != "" && name != f.Topic {
			continue
		}
		tc := TopicCauses{Topic: name, Causes: []CauseView{}}
		for k, c := range tt.causes {
			if v, ok := viewOf(k, c, f, now); ok {
				tc.Causes = append(tc.Causes, v)
				tc.Records += v.Count
				tc.FirstSeen, tc.LastSeen = minTime(tc.FirstSeen, v.FirstSeen), maxTime(tc.LastSeen, v.LastSeen)
			}
		}
		if len(tc.Causes) == 0 && (f.Services != nil || f.ErrorClass != "" || !f.From.IsZero()) {
			continue
		}
		sortCauses(tc.Causes)
		out = append(out, tc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// Topics returns the dead-letter topics the triage reads, sorted.
func (t *Triage) Topics() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]string, 0, len(t.topics))
	for name := range t.topics {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func viewOf(k CauseKey, c *cause, f Filter, now time.Time) (CauseView, bool) {
	if (f.ErrorClass != "" && k.ErrorClass != f.ErrorClass) || (f.Services != nil && !f.Services[k.Service]) {
		return CauseView{}, false
	}
	v := CauseView{CauseKey: k, ExceptionClass: c.exception, Count: c.count, FirstSeen: c.first, LastSeen: c.last}
	if !f.From.IsZero() || !f.To.IsZero() {
		v.Count = c.within(f.From, f.To)
		if v.Count == 0 {
			return CauseView{}, false
		}
	}
	v.Last24h = c.within(now.Add(-24*time.Hour), now.Add(time.Hour))
	v.Previous24h = c.within(now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	v.Trend = trend(v.Last24h, v.Previous24h)
	for i := len(c.samples) - 1; i >= 0; i-- {
		v.Samples = append(v.Samples, c.samples[i])
	}
	return v, true
}

// within counts the dead letters whose record hour is in [from, to).
func (c *cause) within(from, to time.Time) int64 {
	var n int64
	for h, cnt := range c.hours {
		ht := time.Unix(h, 0)
		if (from.IsZero() || !ht.Before(from.Truncate(time.Hour))) && (to.IsZero() || ht.Before(to)) {
			n += cnt
		}
	}
	return n
}

// trend compares the last 24 hours with the 24 before: rising or falling
// by more than a quarter, new (nothing before), quiet (nothing lately),
// else steady.
func trend(last, prev int64) string {
	switch {
	case last == 0 && prev == 0:
		return "quiet"
	case prev == 0:
		return "new"
	case last == 0:
		return "quiet"
	case last*4 > prev*5:
		return "rising"
	case last*4 < prev*3:
		return "falling"
	}
	return "steady"
}

func sortCauses(cs []CauseView) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Count != cs[j].Count {
			return cs[i].Count > cs[j].Count
		}
		a, b := cs[i].CauseKey, cs[j].CauseKey
		if a.ErrorClass != b.ErrorClass {
			return a.ErrorClass < b.ErrorClass
		}
		if a.OriginalTopic != b.OriginalTopic {
			return a.OriginalTopic < b.OriginalTopic
		}
		if a.ConsumerGroup != b.ConsumerGroup {
			return a.ConsumerGroup < b.ConsumerGroup
		}
		if a.EventType != b.EventType {
			return a.EventType < b.EventType
		}
		return a.Service < b.Service
	})
}
