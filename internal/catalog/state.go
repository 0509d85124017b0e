package catalog

import (
	"sort"
	"strconv"
	"time"
)

// State is everything a Learner learned, as a plain value: it can be
// encoded as JSON, shared with other replicas and merged (Merge), since
// every replica learns from its own partitions and every count is additive.
type State struct {
	Types    []TypeState  `json:"types"`              // sorted by type, then version
	Topics   []TopicState `json:"topics"`             // sorted by topic
	Overflow int64        `json:"overflow,omitempty"` // events of types beyond the bound, not described
}

// TypeState is what was learned about one (event type, version).
type TypeState struct {
	Type      string           `json:"type"`
	Version   string           `json:"version"`
	Checked   int64            `json:"checked"`   // events audited
	Compliant int64            `json:"compliant"` // of which broke no error-severity rule
	Sampled   int64            `json:"sampled"`   // of which the shape was learned from
	FirstSeen time.Time        `json:"first_seen"`
	LastSeen  time.Time        `json:"last_seen"`
	Topics    map[string]int64 `json:"topics,omitempty"`     // topic -> events
	Producers map[string]int64 `json:"producers,omitempty"`  // source service -> events
	SchemaIDs map[string]int64 `json:"schema_ids,omitempty"` // Confluent schema id (decimal) -> events
	Keys      KeyState         `json:"keys"`
	DataPath  string           `json:"data_path,omitempty"` // data field of the profile that audited it; "" = the estate's
	Value     *Shape           `json:"value,omitempty"`     // shape of the whole event value
}

// TopicState is what was learned about one topic.
type TopicState struct {
	Topic     string    `json:"topic"`
	Records   int64     `json:"records"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// State returns a copy of what the learner knows.
func (l *Learner) State() State {
	l.mu.RLock()
	defer l.mu.RUnlock()
	st := State{Overflow: l.overflow.Load()}
	for k, t := range l.types {
		st.Types = append(st.Types, t.state(k))
	}
	for name, ts := range l.topics {
		st.Topics = append(st.Topics, TopicState{Topic: name, Records: ts.records.Load(),
			FirstSeen: fromNanos(ts.first.Load()), LastSeen: fromNanos(ts.last.Load())})
	}
	st.sort()
	return st
}

func (t *typeStats) state(k typeKey) TypeState {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := TypeState{Type: k.typ, Version: k.version, Checked: t.checked.Load(), Compliant: t.compliant.Load(),
		Sampled: t.sampled, DataPath: t.dataPath, FirstSeen: fromNanos(t.first.Load()), LastSeen: fromNanos(t.last.Load()),
		Topics: copyCounts(t.topics), Producers: copyCounts(t.producers), Keys: KeyState{Sampled: t.keys.Sampled, Roles: copyCounts(t.keys.Roles)}}
	if len(t.schemaIDs) > 0 {
		ts.SchemaIDs = map[string]int64{}
		for id, n := range t.schemaIDs {
			ts.SchemaIDs[strconv.FormatInt(int64(id), 10)] = n
		}
	}
	if t.value.Count > 0 {
		ts.Value = &Shape{}
		ts.Value.Merge(&t.value)
	}
	return ts
}

func copyCounts(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (s *State) sort() {
	sort.Slice(s.Types, func(i, j int) bool {
		a, b := s.Types[i], s.Types[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Version < b.Version
	})
	sort.Slice(s.Topics, func(i, j int) bool { return s.Topics[i].Topic < s.Topics[j].Topic })
}

// Merge combines the states of several replicas into the estate's: counts
// add up, first and last seen widen, and shapes merge (Shape.Merge). The
// inputs are not modified.
func Merge(states ...State) State {
	types := map[typeKey]*TypeState{}
	topics := map[string]*TopicState{}
	var out State
	for _, st := range states {
		out.Overflow += st.Overflow
		for i := range st.Types {
			mergeType(types, &st.Types[i])
		}
		for _, t := range st.Topics {
			if cur := topics[t.Topic]; cur != nil {
				cur.Records += t.Records
				cur.FirstSeen, cur.LastSeen = earliest(cur.FirstSeen, t.FirstSeen), latest(cur.LastSeen, t.LastSeen)
				continue
			}
			c := t
			topics[t.Topic] = &c
		}
	}
	for _, t := range types {
		out.Types = append(out.Types, *t)
	}
	for _, t := range topics {
		out.Topics = append(out.Topics, *t)
	}
	out.sort()
	return out
}

func mergeType(into map[typeKey]*TypeState, t *TypeState) {
	k := typeKey{t.Type, t.Version}
	cur := into[k]
	if cur == nil {
		cur = &TypeState{Type: t.Type, Version: t.Version, FirstSeen: t.FirstSeen, LastSeen: t.LastSeen}
		into[k] = cur
	}
	cur.Checked += t.Checked
	cur.Compliant += t.Compliant
	cur.Sampled += t.Sampled
	cur.FirstSeen, cur.LastSeen = earliest(cur.FirstSeen, t.FirstSeen), latest(cur.LastSeen, t.LastSeen)
	cur.Topics = addCounts(cur.Topics, t.Topics)
	cur.Producers = addCounts(cur.Producers, t.Producers)
	cur.SchemaIDs = addCounts(cur.SchemaIDs, t.SchemaIDs)
	cur.Keys.merge(t.Keys)
	if cur.DataPath == "" {
		cur.DataPath = t.DataPath
	}
	if t.Value != nil {
		if cur.Value == nil {
			cur.Value = &Shape{}
		}
		cur.Value.Merge(t.Value)
	}
}

func addCounts(into, from map[string]int64) map[string]int64 {
	for k, v := range from {
		if into == nil {
			into = map[string]int64{}
		}
		into[k] += v
	}
	return into
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
