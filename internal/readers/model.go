package readers

import (
	"sort"
	"time"
)

// Estate is the estate-wide answer of GET /api/v1/types: per event type
// and version, who produces it, which consumer groups read it, and whether
// it can be retired; per consumer group and type, whether it was seen to
// be idempotent.
type Estate struct {
	GeneratedAt      time.Time        `json:"generated_at"`
	CommitsAt        time.Time        `json:"commits_at,omitzero"` // lag cycle whose committed offsets were joined; absent before the first
	RetirementWindow string           `json:"retirement_window"`   // how long a version must go unproduced before it can be retired
	Types            []TypeVersion    `json:"types"`               // sorted by type, then version
	Idempotency      []Idempotency    `json:"idempotency"`         // sorted by group, then type
	Rewinds          []Rewind         `json:"rewinds,omitempty"`   // committed offsets seen moving backwards (redeliveries)
	Overflow         map[string]int64 `json:"overflow,omitempty"`  // what went beyond the bounds
}

// TypeVersion is one event type and version.
type TypeVersion struct {
	Type       string     `json:"type"`
	Version    string     `json:"version"`
	Events     int64      `json:"events"` // audited
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	Topics     []string   `json:"topics"`
	Producers  []Producer `json:"producers"`
	Readers    []Reader   `json:"readers"`
	Retirement Retirement `json:"retirement"`
}

// Producer is a service that produced a type and version.
type Producer struct {
	Service  string    `json:"service"`
	Events   int64     `json:"events"`
	LastSeen time.Time `json:"last_seen"`
}

// Key is the type and version.
func (t *TypeVersion) Key() TypeKey { return TypeKey{t.Type, t.Version} }

// Build assembles the estate from the merged type stats, the readers the
// join found and the idempotency verdicts, judging retirement with window.
func Build(stats []TypeStats, readers map[TypeKey][]Reader, idem []Idempotency, now time.Time, window time.Duration) Estate {
	e := Estate{GeneratedAt: now.UTC(), RetirementWindow: window.String(), Types: make([]TypeVersion, 0, len(stats)), Idempotency: idem}
	if e.Idempotency == nil {
		e.Idempotency = []Idempotency{}
	}
	seen := map[TypeKey]bool{}
	for _, s := range stats {
		seen[s.TypeKey] = true
		e.Types = append(e.Types, typeVersion(s, readers[s.TypeKey]))
	}
	for k, rs := range readers { // read, but not audited by this estate's replicas (yet)
		if !seen[k] {
			e.Types = append(e.Types, TypeVersion{Type: k.Type, Version: k.Version, Topics: []string{}, Producers: []Producer{}, Readers: rs})
		}
	}
	sort.Slice(e.Types, func(i, j int) bool { return lessKey(e.Types[i].Key(), e.Types[j].Key()) })
	judge(e.Types, now, window)
	e.Idempotency = withUnobserved(e.Idempotency, e.Types)
	return e
}

// withUnobserved adds a not_observable verdict for every group that reads
// a type without evidence either way: no redelivered input of the type
// reached it, or what its service emitted for one was not seen.
func withUnobserved(idem []Idempotency, types []TypeVersion) []Idempotency {
	have := map[idemKey]bool{}
	for _, p := range idem {
		have[idemKey{p.Group, p.Type}] = true
	}
	for _, t := range types {
		for _, r := range t.Readers {
			k := idemKey{r.Group, t.Type}
			if !have[k] {
				have[k] = true
				idem = append(idem, Idempotency{Group: r.Group, Type: t.Type, Verdict: VerdictNotObservable})
			}
		}
	}
	sortIdem(idem)
	return idem
}

func typeVersion(s TypeStats, rs []Reader) TypeVersion {
	t := TypeVersion{Type: s.Type, Version: s.Version, Events: s.Events, FirstSeen: fromNanos(s.FirstSeen),
		LastSeen: fromNanos(s.LastSeen), Topics: make([]string, 0, len(s.Topics)), Producers: []Producer{}, Readers: rs}
	if t.Readers == nil {
		t.Readers = []Reader{}
	}
	for topic := range s.Topics {
		t.Topics = append(t.Topics, topic)
	}
	sort.Strings(t.Topics)
	for svc, c := range s.Producers {
		t.Producers = append(t.Producers, Producer{Service: svc, Events: c.Events, LastSeen: fromNanos(c.Last)})
	}
	sort.Slice(t.Producers, func(i, j int) bool { return t.Producers[i].Service < t.Producers[j].Service })
	return t
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Find returns the type and version, and whether the estate has it;
// versions compare normalized ("1" is "1.0").
func (e *Estate) Find(typ, version string) (*TypeVersion, bool) {
	for i := range e.Types {
		if e.Types[i].Type == typ && SameVersion(e.Types[i].Version, version) {
			return &e.Types[i], true
		}
	}
	return nil, false
}
