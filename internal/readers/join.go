package readers

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"
)

// maxRewinds bounds the rewinds remembered (the newest are kept).
const maxRewinds = 512

// Commit is a consumer group's committed offset on one partition: the
// next offset it will read.
type Commit struct {
	Group     string
	Topic     string
	Partition int32
	Offset    int64
}

// Rewind is a committed offset that moved backwards: the records in
// [To, From) of the partition are delivered to the group again.
type Rewind struct {
	Group     string    `json:"group"`
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	From      int64     `json:"from"` // committed offset before
	To        int64     `json:"to"`   // committed offset after (lower)
	At        time.Time `json:"at"`   // when eventwatch saw it
}

// readState is what the joins found about one group and one type and
// version.
type readState struct {
	used      bool  // the group passed an occurrence of the type at least once
	lastRead  int64 // unix ns
	estimated bool  // lastRead is the production time of an event read before eventwatch watched
	join      int64 // last join that saw the group's commits on the type's partitions
	behind    int64 // that join: occurrences at or after its committed offsets
	oldest    uint32
	parts     int
}

type joinState struct {
	groups  map[string]uint32
	names   []string
	reads   [][]readState // group -> type -> what the joins found (grown on demand)
	rewinds []Rewind
	byTopic map[string]map[uint32]struct{} // topic -> groups with committed offsets on it
	joins   int64
	at      time.Time
}

func newJoinState() joinState {
	return joinState{groups: map[string]uint32{},
		byTopic: map[string]map[uint32]struct{}{}}
}

// Join reads the groups' committed offsets as of at (a lag cycle): a group
// whose committed offset passed an occurrence of a type and version since
// the previous join (or passed one indexed since) read it at at; a group
// seen for the first time is credited with the production time of the
// last occurrence it had passed (marked estimated). A committed offset
// that moved backwards is remembered as a Rewind. Commits come grouped by
// group, and by topic within a group.
func (x *Index) Join(at time.Time, commits []Commit) {
	x.JoinFrom(at, func(yield func(Commit)) bool {
		for _, c := range commits {
			yield(c)
		}
		return true
	})
}

// JoinFrom is Join with the commits streamed from source (no list of
// every group partition is built): source yields them and returns true,
// or yields none and returns false to call the join off (the lag
// collector moved on to another cycle), which then changes nothing. The
// index is locked from the first commit on, not while source waits for
// its own lock (the collector's, held through a whole lag cycle).
func (x *Index) JoinFrom(at time.Time, source func(yield func(Commit)) bool) bool {
	j := joiner{x: x, at: at}
	locked := false
	ok := source(func(c Commit) {
		if !locked {
			x.mu.Lock()
			x.join.joins++ // credit tells a first join from a later one by it
			locked = true
		}
		j.commit(c)
	})
	return x.endJoin(at, ok, locked)
}

// endJoin ends a join whose source returned ok (x.mu held when locked):
// an accepted join marks what it saw; a called-off one changes nothing.
func (x *Index) endJoin(at time.Time, ok, locked bool) bool {
	if !locked {
		x.mu.Lock()
		if ok {
			x.join.joins++
		}
	}
	defer x.mu.Unlock()
	if !ok {
		return false
	}
	for _, p := range x.dirty { // the others' newest occurrences were there at the last join
		for i := range p.types {
			p.types[i].joined = p.types[i].newest()
		}
		p.dirty = false
	}
	clear(x.dirty)
	x.dirty = x.dirty[:0]
	x.join.at = at
	x.gen.Add(1)
	return true
}

// JoinTopics is JoinFrom with the commits streamed one group's topic at
// a time (lag.Collector.TopicCommits): offsets[p] is partition p's
// committed offset, negative for none; the slice is read during the call
// only. Commits come grouped by group.
func (x *Index) JoinTopics(at time.Time, source func(yield func(group, topic string, offsets []int64)) bool) bool {
	j := joiner{x: x, at: at}
	locked := false
	ok := source(func(group, topic string, offsets []int64) {
		if !locked {
			x.mu.Lock()
			x.join.joins++
			locked = true
		}
		j.topic(group, topic, offsets)
	})
	return x.endJoin(at, ok, locked)
}

// JoinIndexedTopics is JoinTopics with a source that is told which topics
// the join can use (lag.Collector.TopicCommitsOf): indexed(topic) reports
// whether the index holds any partition of topic. The commits of a topic
// it does not hold change nothing (no occurrence to credit, no committed
// offset to compare with at the next join), so the source may leave them
// out and build nothing for them: an estate whose readers eventwatch
// sampled on few topics joins only those. The index is locked from the
// first call of indexed or yield on.
func (x *Index) JoinIndexedTopics(at time.Time, source func(indexed func(topic string) bool, yield func(group, topic string, offsets []int64)) bool) bool {
	j := joiner{x: x, at: at}
	locked := false
	lock := func() {
		if !locked {
			x.mu.Lock()
			x.join.joins++
			locked = true
		}
	}
	ok := source(func(topic string) bool {
		lock()
		_, held := x.byTopic[topic]
		return held
	}, func(group, topic string, offsets []int64) {
		lock()
		j.topic(group, topic, offsets)
	})
	return x.endJoin(at, ok, locked)
}

// joiner folds one join's commits into the index (x.mu held).
type joiner struct {
	x                    *Index
	at                   time.Time
	lastGroup, lastTopic string
	gi                   uint32
	ok                   bool
	tableTopic           string       // the topic of table
	table                []*partition // x.byTopic[tableTopic]: commits come grouped by topic, so one map lookup per run of a topic
	hasTable             bool
}

// partition is the index's partition of c, nil when it has none.
func (j *joiner) partition(c Commit) *partition {
	if !j.hasTable || c.Topic != j.tableTopic {
		j.tableTopic, j.table, j.hasTable = c.Topic, j.x.byTopic[c.Topic], true
	}
	return j.x.lookup(j.table, c.Topic, c.Partition)
}

func (j *joiner) commit(c Commit) {
	if p := j.partition(c); p != nil && c.Offset >= 0 {
		j.commitTo(p, c)
	}
}

// topic folds one group's committed offsets on topic, by partition
// (negative: none), looking the topic's table up once.
func (j *joiner) topic(group, topic string, offsets []int64) {
	table := j.x.byTopic[topic]
	for part, off := range offsets {
		if off < 0 {
			continue
		}
		if p := j.x.lookup(table, topic, int32(part)); p != nil {
			j.commitTo(p, Commit{Group: group, Topic: topic, Partition: int32(part), Offset: off})
		}
	}
}

// commitTo folds c, a commit on the index's partition p.
func (j *joiner) commitTo(p *partition, c Commit) {
	x, js := j.x, &j.x.join
	if c.Group != j.lastGroup || j.lastGroup == "" { // commits come grouped by group
		j.gi, j.ok = x.groupID(c.Group)
		j.lastGroup, j.lastTopic = c.Group, ""
	}
	if !j.ok {
		return
	}
	if c.Topic != j.lastTopic {
		js.readsTopic(c.Topic, j.gi)
		j.lastTopic = c.Topic
	}
	prev, had := p.swapCommit(j.gi, c.Offset)
	if had && c.Offset < prev {
		js.rewound(Rewind{Group: c.Group, Topic: c.Topic, Partition: c.Partition, From: prev, To: c.Offset, At: j.at.UTC()})
	}
	for i := range p.types {
		x.credit(&p.types[i], j.gi, c.Offset, prev, had, j.at)
	}
}

func (x *Index) groupID(name string) (uint32, bool) {
	js := &x.join
	if gi, ok := js.groups[name]; ok {
		return gi, true
	}
	if len(js.names) >= maxGroups {
		x.overflow["groups"]++
		return 0, false
	}
	gi := uint32(len(js.names))
	js.groups[name] = gi
	js.names = append(js.names, name)
	js.reads = append(js.reads, nil)
	return gi, true
}

func (js *joinState) readsTopic(topic string, gi uint32) {
	m := js.byTopic[topic]
	if m == nil {
		m = map[uint32]struct{}{}
		js.byTopic[topic] = m
	}
	m[gi] = struct{}{}
}

func (js *joinState) rewound(r Rewind) {
	if len(js.rewinds) >= maxRewinds {
		js.rewinds = slices.Delete(js.rewinds, 0, 1)
	}
	js.rewinds = append(js.rewinds, r)
}

// credit updates what group gi read of tp's type on one partition, its
// committed offset now cur and at the previous join prev (had: there was one).
func (x *Index) credit(tp *positions, gi uint32, cur, prev int64, had bool, at time.Time) {
	js := &x.join
	var off int64
	var produced uint32
	passed := false
	if !had || cur != prev || tp.joined != tp.newest() { // else nothing new can have been read here
		off, produced, passed = tp.lastBelow(cur)
	}
	byType := js.reads[gi]
	if int(tp.typ) >= len(byType) {
		if !passed {
			return
		}
		byType = append(byType, make([]readState, len(x.types)-len(byType))...)
		js.reads[gi] = byType
	}
	rs := &byType[tp.typ]
	if !rs.used {
		if !passed {
			return
		}
		rs.used = true
	}
	if rs.join != js.joins {
		rs.join, rs.behind, rs.oldest, rs.parts = js.joins, 0, 0, 0
	}
	rs.parts++
	if n, oldest := tp.behind(cur, unixSeconds(at)); n > 0 {
		rs.behind += n
		if rs.oldest == 0 || oldest < rs.oldest {
			rs.oldest = oldest
		}
	}
	if !passed {
		return
	}
	switch {
	case !had:
		if ns := int64(produced) * int64(time.Second); ns > rs.lastRead {
			rs.lastRead, rs.estimated = ns, true
		}
	case off >= prev || off > tp.joined:
		rs.lastRead, rs.estimated = at.UnixNano(), false
	}
}

// Reader is a consumer group that read a type and version.
type Reader struct {
	Group string `json:"group"`
	// LastRead is when eventwatch saw the group's committed offset pass an
	// event of the type and version (at lag-cycle resolution); estimated:
	// the group had read it before eventwatch watched it, and this is when
	// the last such event was produced.
	LastRead          time.Time `json:"last_read"`
	LastReadEstimated bool      `json:"last_read_estimated,omitempty"`
	// BehindEvents counts the audited events of the type and version at or
	// after the group's committed offsets (not read yet); BehindSeconds is
	// the age of the oldest of them, null when none.
	BehindEvents  int64    `json:"behind_events"`
	BehindSeconds *float64 `json:"behind_seconds"`
	Partitions    int      `json:"partitions"` // partitions carrying the type where the group has committed offsets (last join)
	Current       bool     `json:"current"`    // the group had committed offsets there at the last join
}

// Readers returns, per type and version, the groups that read it, sorted
// by group.
func (x *Index) Readers() map[TypeKey][]Reader {
	x.mu.Lock()
	defer x.mu.Unlock()
	js := &x.join
	out := map[TypeKey][]Reader{}
	for gi, byType := range js.reads {
		for typ := range byType {
			if r, ok := js.reader(uint32(gi), &byType[typ]); ok {
				key := x.types[typ].key
				out[key] = append(out[key], r)
			}
		}
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Group < rs[j].Group })
	}
	return out
}

// reader is what the joins found about one group and type, false when it
// never read it.
func (js *joinState) reader(gi uint32, rs *readState) (Reader, bool) {
	{
		if !rs.used || rs.lastRead == 0 {
			return Reader{}, false
		}
		r := Reader{Group: js.names[gi], LastRead: time.Unix(0, rs.lastRead).UTC(), LastReadEstimated: rs.estimated}
		if rs.join == js.joins {
			r.Current, r.Partitions, r.BehindEvents = true, rs.parts, rs.behind
			if rs.behind > 0 {
				age := max(js.at.Sub(time.Unix(int64(rs.oldest), 0)).Seconds(), 0)
				r.BehindSeconds = &age
			}
		}
		return r, true
	}
}

// Rewinds returns the rewinds seen, oldest first.
func (x *Index) Rewinds() []Rewind {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.join.rewinds)
}

// JoinedAt is the time of the last Join; zero before the first.
func (x *Index) JoinedAt() time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.join.at
}

// GroupFor names the consumer group through which service reads topic:
// among the groups with committed offsets on the topic at the last join,
// the one named like the service (equal, or the service name followed by
// '-', '.' or '_'); else the service name itself (groups are named after
// the consuming service, as the catalog's expected consumers are).
func (x *Index) GroupFor(service, topic string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	best := ""
	for gi := range x.join.byTopic[topic] {
		g := x.join.names[gi]
		switch {
		case g == service:
			return g
		case len(g) > len(service) && g[:len(service)] == service && strings.ContainsRune("-._", rune(g[len(service)])):
			if best == "" || g < best {
				best = g
			}
		}
	}
	if best != "" {
		return best
	}
	return service
}

// Rewound reports whether group's committed offset on the partition was
// seen moving back over offset (so the record was delivered again).
func (x *Index) Rewound(group, topic string, partition int32, offset int64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range x.join.rewinds {
		if r.Group == group && r.Topic == topic && r.Partition == partition && r.To <= offset && offset < r.From {
			return true
		}
	}
	return false
}

// groupCommit is a group's committed offset on a partition at the last join.
type groupCommit struct {
	group  uint32
	offset int64
}

// swapCommit stores group's committed offset on p and returns the one of
// the previous join (had: there was one). p.commits stays sorted by group.
func (p *partition) swapCommit(group uint32, offset int64) (prev int64, had bool) {
	i, found := slices.BinarySearchFunc(p.commits, group, func(c groupCommit, g uint32) int { return cmp.Compare(c.group, g) })
	if found {
		prev = p.commits[i].offset
		p.commits[i].offset = offset
		return prev, true
	}
	p.commits = slices.Insert(p.commits, i, groupCommit{group, offset})
	return 0, false
}
