package readers

import (
	"github.com/eventwatch/eventwatch/internal/event"

	"sort"
	"sync"
	"time"
)

// Bounds of an Index. What is beyond one is not described and is counted
// (eventwatch_readers_overflow_total{what}).
const (
	maxPartitions    = 200_000
	maxTypes         = 2000
	maxGroups        = 10_000
	maxProducers     = 32 // per type and version
	maxTopicsPerType = 32
)

// TypeKey is an event type and version.
type TypeKey struct {
	Type    string `json:"type"`
	Version string `json:"version"`
}

type partKey struct {
	topic string
	part  int32
}

// partition is one partition's occurrences, one positions per type seen.
type partition struct {
	topic string
	part  int32
	id    uint32 // dense id, for the join's per-group state
	types []positions
}

// typeInfo is what the index knows about one type and version besides
// positions: events audited, first and last seen, topics, producers.
type typeInfo struct {
	key         TypeKey
	events      int64
	first, last int64 // unix ns
	topics      map[string]int64
	producers   map[string]*seenCount
}

type seenCount struct {
	Events int64 `json:"events"`
	Last   int64 `json:"last"` // unix ns
}

// Index keeps, per (topic, partition), where each event type and version
// occurred (a few offset ranges, not every offset), fed by the audited
// records (it is an event.Sink), and joins them with consumer groups'
// committed offsets (Join). Safe for concurrent use.
type Index struct {
	isDLQ func(topic string) bool
	now   func() time.Time

	mu       sync.Mutex
	parts    map[partKey]*partition
	types    []*typeInfo
	typeIdx  map[TypeKey]uint16
	overflow map[string]int64
	join     joinState
}

// NewIndex returns an empty index. Records of the topics isDLQ reports
// (nil: none) are not occurrences: a dead letter wraps an event nobody
// reads from there as its type.
func NewIndex(isDLQ func(topic string) bool) *Index {
	if isDLQ == nil {
		isDLQ = func(string) bool { return false }
	}
	return &Index{isDLQ: isDLQ, now: time.Now, parts: map[partKey]*partition{}, typeIdx: map[TypeKey]uint16{},
		overflow: map[string]int64{}, join: newJoinState()}
}

// Observe records where an audited event's type and version occurred. It
// never retains rec or res.
func (x *Index) Observe(rec *event.Record, res *event.Result) {
	if res == nil || rec == nil || res.Tombstone || res.EventType == "" || x.isDLQ(rec.Topic) {
		return
	}
	at := rec.Timestamp
	if at.IsZero() {
		at = x.now()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	ti, ok := x.typeOf(TypeKey{res.EventType, res.Version})
	if !ok {
		return
	}
	p := x.partitionOf(rec.Topic, rec.Partition)
	if p == nil {
		return
	}
	x.types[ti].count(rec.Topic, res.Source, at.UnixNano())
	p.positionsOf(ti).add(rec.Offset, unixSeconds(at))
}

func unixSeconds(t time.Time) uint32 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	return uint32(min(s, 1<<32-1))
}

func (x *Index) typeOf(k TypeKey) (uint16, bool) {
	if i, ok := x.typeIdx[k]; ok {
		return i, true
	}
	if len(x.types) >= maxTypes {
		x.overflow["types"]++
		return 0, false
	}
	i := uint16(len(x.types))
	x.types = append(x.types, &typeInfo{key: k, topics: map[string]int64{}, producers: map[string]*seenCount{}})
	x.typeIdx[k] = i
	return i, true
}

func (x *Index) partitionOf(topic string, part int32) *partition {
	k := partKey{topic, part}
	if p := x.parts[k]; p != nil {
		return p
	}
	if len(x.parts) >= maxPartitions {
		x.overflow["partitions"]++
		return nil
	}
	p := &partition{topic: topic, part: part, id: uint32(len(x.parts))}
	x.parts[k] = p
	return p
}

func (p *partition) positionsOf(typ uint16) *positions {
	for i := range p.types {
		if p.types[i].typ == typ {
			return &p.types[i]
		}
	}
	if len(p.types) == cap(p.types) { // grow by a few, not by doubling: most partitions carry few types
		grown := make([]positions, len(p.types), len(p.types)+4)
		copy(grown, p.types)
		p.types = grown
	}
	p.types = append(p.types, positions{typ: typ, joined: -1})
	return &p.types[len(p.types)-1]
}

func (t *typeInfo) count(topic, source string, ns int64) {
	t.events++
	if t.first == 0 || ns < t.first {
		t.first = ns
	}
	t.last = max(t.last, ns)
	if _, ok := t.topics[topic]; ok || len(t.topics) < maxTopicsPerType {
		t.topics[topic]++
	}
	if source == "" {
		return
	}
	pc := t.producers[source]
	if pc == nil {
		if len(t.producers) >= maxProducers {
			return
		}
		pc = &seenCount{}
		t.producers[source] = pc
	}
	pc.Events++
	pc.Last = max(pc.Last, ns)
}

// TypeStats is what one replica saw of one type and version: additive
// across replicas (MergeStats).
type TypeStats struct {
	TypeKey
	Events    int64                 `json:"events"`
	FirstSeen int64                 `json:"first_seen"` // unix ns
	LastSeen  int64                 `json:"last_seen"`  // unix ns
	Topics    map[string]int64      `json:"topics,omitempty"`
	Producers map[string]*seenCount `json:"producers,omitempty"`
}

// Stats returns what the index saw per type and version, sorted.
func (x *Index) Stats() []TypeStats {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]TypeStats, 0, len(x.types))
	for _, t := range x.types {
		s := TypeStats{TypeKey: t.key, Events: t.events, FirstSeen: t.first, LastSeen: t.last,
			Topics: map[string]int64{}, Producers: map[string]*seenCount{}}
		for k, v := range t.topics {
			s.Topics[k] = v
		}
		for k, v := range t.producers {
			c := *v
			s.Producers[k] = &c
		}
		out = append(out, s)
	}
	sortStats(out)
	return out
}

func sortStats(s []TypeStats) {
	sort.Slice(s, func(i, j int) bool { return lessKey(s[i].TypeKey, s[j].TypeKey) })
}

func lessKey(a, b TypeKey) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.Version < b.Version
}

// MergeStats adds up several replicas' stats.
func MergeStats(all ...[]TypeStats) []TypeStats {
	by := map[TypeKey]*TypeStats{}
	for _, list := range all {
		for _, s := range list {
			cur := by[s.TypeKey]
			if cur == nil {
				cur = &TypeStats{TypeKey: s.TypeKey, Topics: map[string]int64{}, Producers: map[string]*seenCount{}}
				by[s.TypeKey] = cur
			}
			cur.Events += s.Events
			if cur.FirstSeen == 0 || (s.FirstSeen != 0 && s.FirstSeen < cur.FirstSeen) {
				cur.FirstSeen = s.FirstSeen
			}
			cur.LastSeen = max(cur.LastSeen, s.LastSeen)
			for k, v := range s.Topics {
				cur.Topics[k] += v
			}
			for k, v := range s.Producers {
				pc := cur.Producers[k]
				if pc == nil {
					pc = &seenCount{}
					cur.Producers[k] = pc
				}
				pc.Events += v.Events
				pc.Last = max(pc.Last, v.Last)
			}
		}
	}
	out := make([]TypeStats, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sortStats(out)
	return out
}
