package readers

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventwatch/eventwatch/internal/event"
)

// Bounds of an Index. What is beyond one is not described and is counted
// (Estate.Overflow).
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
	topic   string
	part    int32
	id      uint32 // dense id, for the join's per-group state
	dlq     bool   // a dead-letter topic: its records are no occurrences
	last    uint16 // type of the last occurrence (typeOn)
	hasLast bool
	dirty   bool // its occurrences changed since the last join (Index.dirty)
	types   []positions
	commits []groupCommit // each group's committed offset at the last join, by group
}

// typeInfo is what the index knows about one type and version besides
// positions: events audited, first and last seen, topics, producers.
type typeInfo struct {
	key         TypeKey
	events      int64
	first, last int64            // unix ns
	topics      map[string]int64 // topics it occurred on (value 1)
	producers   map[string]*seenCount
	lastSrc     string // producer of the last occurrence, and its counts
	lastCount   *seenCount
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
	byTopic  map[string][]*partition // parts again, per topic by partition number (below maxTablePartition), for the join; a key for every topic in parts
	types    []*typeInfo
	typeIdx  map[TypeKey]uint16
	overflow map[string]int64
	join     joinState
	dirty    []*partition  // the partitions whose occurrences changed since the last join
	gen      atomic.Uint64 // moved (under mu) by every change of what the index answers (Generation)
}

// Generation changes whenever what the index answers (stats, positions,
// readers, rewinds, overflow) may have changed: an unchanged generation,
// read before them, means unchanged answers.
func (x *Index) Generation() uint64 { return x.gen.Load() }

// touched marks p's occurrences changed since the last join (x.mu held).
func (x *Index) touched(p *partition) {
	if !p.dirty {
		p.dirty = true
		x.dirty = append(x.dirty, p)
	}
}

// NewIndex returns an empty index. Records of the topics isDLQ reports
// (nil: none) are not occurrences: a dead letter wraps an event nobody
// reads from there as its type.
func NewIndex(isDLQ func(topic string) bool) *Index {
	if isDLQ == nil {
		isDLQ = func(string) bool { return false }
	}
	return &Index{isDLQ: isDLQ, now: time.Now, parts: map[partKey]*partition{}, byTopic: map[string][]*partition{}, typeIdx: map[TypeKey]uint16{},
		overflow: map[string]int64{}, join: newJoinState()}
}

// Observe records where an audited event's type and version occurred. It
// never retains rec or res.
func (x *Index) Observe(rec *event.Record, res *event.Result) {
	if res == nil || rec == nil || res.Tombstone || res.EventType == "" || res.DeadLetter {
		return // a dead-letter copy (on any topic) is its original's, not an occurrence of the type
	}
	at := rec.Timestamp
	if at.IsZero() {
		at = x.now()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.gen.Add(1)
	p := x.partitionOf(rec.Topic, rec.Partition)
	if p == nil || p.dlq {
		return
	}
	ti, ok := x.typeOn(p, res.EventType, res.Version)
	if !ok {
		return
	}
	t := x.types[ti]
	tp := p.positionsOf(ti)
	if tp.nseg == 0 {
		t.onTopic(rec.Topic)
	}
	t.count(res.Source, at.UnixNano())
	tp.add(rec.Offset, unixSeconds(at))
	x.touched(p)
}

// typeOn is the index of a type and version, trying the partition's last
// one first (a partition mostly carries the same few types).
func (x *Index) typeOn(p *partition, typ, version string) (uint16, bool) {
	if p.hasLast {
		if k := x.types[p.last].key; k.Type == typ && k.Version == version {
			return p.last, true
		}
	}
	ti, ok := x.typeOf(TypeKey{typ, version})
	if ok {
		p.last, p.hasLast = ti, true
	}
	return ti, ok
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
	p := &partition{topic: topic, part: part, id: uint32(len(x.parts)), dlq: x.isDLQ(topic)}
	x.parts[k] = p
	ps := x.byTopic[topic]
	if part >= 0 && part < maxTablePartition {
		if int(part) >= len(ps) {
			ps = append(ps, make([]*partition, int(part)+1-len(ps))...)
		}
		ps[part] = p
	}
	x.byTopic[topic] = ps // every topic with a partition is a key, its table empty or not (JoinIndexedTopics)
	return p
}

// maxTablePartition bounds the partition numbers of the per-topic tables
// (byTopic): a larger number (not one Kafka gives out in practice) is
// only in the parts map, so no table grows without bound.
const maxTablePartition = 1 << 16

// lookup is the partition (topic, part) of the index, nil when it has
// none, through the topic's table when the number is in its range.
func (x *Index) lookup(table []*partition, topic string, part int32) *partition {
	if part >= 0 && part < maxTablePartition {
		if int(part) < len(table) {
			return table[part]
		}
		return nil
	}
	return x.parts[partKey{topic, part}]
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

// onTopic notes that the type occurred on topic.
func (t *typeInfo) onTopic(topic string) {
	if _, ok := t.topics[topic]; !ok && len(t.topics) < maxTopicsPerType {
		t.topics[topic] = 1
	}
}

func (t *typeInfo) count(source string, ns int64) {
	t.events++
	if t.first == 0 || ns < t.first {
		t.first = ns
	}
	t.last = max(t.last, ns)
	if source == "" {
		return
	}
	pc := t.lastCount
	if pc == nil || source != t.lastSrc {
		pc = t.producers[source]
		if pc == nil {
			if len(t.producers) >= maxProducers {
				return
			}
			pc = &seenCount{}
			t.producers[source] = pc
		}
		t.lastSrc, t.lastCount = source, pc
	}
	pc.Events++
	pc.Last = max(pc.Last, ns)
}

// TypeStats is what one replica saw of one type and version: additive
// across replicas (MergeStats).
type TypeStats struct {
	TypeKey
	Events    int64                 `json:"events"`
	FirstSeen int64                 `json:"first_seen"`       // unix ns
	LastSeen  int64                 `json:"last_seen"`        // unix ns
	Topics    map[string]int64      `json:"topics,omitempty"` // topics it occurred on
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
