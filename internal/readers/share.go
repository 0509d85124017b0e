package readers

import (
	"sort"
	"strconv"
	"time"
)

// maxSharedPositions bounds the partition positions one replica shares
// for the leader's join. Each partition is its own record on the shared
// topic (the share kind splits "positions" by topic and partition, and
// writes a partition only when its ranges changed), so the bound is no
// longer the broker's record size but what a replica renders every share
// interval: the whole document is marshalled and split each time (about
// 7 ms per 1,000 partitions, wall time on a loaded 2-core machine; 360 ms
// at 50,000), so it stays at 6,000. Beyond it the partitions are left out
// (ReplicaDoc.PositionsLeftOut) and their readers are not found.
const maxSharedPositions = 6000

// ReplicaDoc is what one replica shares (package share, kind "readers"):
// what it saw of each type, its idempotency verdicts and, for the leader's
// join, where types occurred on the partitions it samples; the leader adds
// the readers it found.
type ReplicaDoc struct {
	Stats            []TypeStats          `json:"stats"`
	Idempotency      []Idempotency        `json:"idempotency,omitempty"`
	Positions        []PartitionPositions `json:"positions,omitempty"`
	PositionsLeftOut int                  `json:"positions_left_out,omitempty"`
	Leader           bool                 `json:"leader,omitempty"`
	Readers          map[string][]Reader  `json:"readers,omitempty"` // "type\x00version" -> readers (leader)
	CommitsAt        time.Time            `json:"commits_at,omitzero"`
	Rewinds          []Rewind             `json:"rewinds,omitempty"`
	Overflow         map[string]int64     `json:"overflow,omitempty"`
}

// PartitionPositions is where types occurred on one partition.
type PartitionPositions struct {
	Topic     string          `json:"t"`
	Partition int32           `json:"p"`
	Types     []TypePositions `json:"x"`
}

// TypePositions is one type and version's segments on a partition, each
// [lo, span, n, loAt, hiAt].
type TypePositions struct {
	Type    string     `json:"type"`
	Version string     `json:"v"`
	Segs    [][5]int64 `json:"s"`
}

func readerKey(k TypeKey) string { return k.Type + "\x00" + k.Version }

func keyOf(s string) TypeKey {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return TypeKey{s[:i], s[i+1:]}
		}
	}
	return TypeKey{Type: s}
}

// ExportPositions returns the positions of the partitions this index
// holds, sorted, at most maxSharedPositions, and how many were left out.
func (x *Index) ExportPositions() ([]PartitionPositions, int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]PartitionPositions, 0, min(len(x.parts), maxSharedPositions))
	for _, p := range x.parts {
		pp := PartitionPositions{Topic: p.topic, Partition: p.part, Types: make([]TypePositions, 0, len(p.types))}
		for i := range p.types {
			tp := &p.types[i]
			k := x.types[tp.typ].key
			t := TypePositions{Type: k.Type, Version: k.Version, Segs: make([][5]int64, tp.nseg)}
			for j := range int(tp.nseg) {
				s := tp.segs[j]
				t.Segs[j] = [5]int64{s.lo, int64(s.span), int64(s.n), int64(s.loAt), int64(s.hiAt)}
			}
			pp.Types = append(pp.Types, t)
		}
		out = append(out, pp)
	}
	sort.Slice(out, func(i, j int) bool { return positionsLess(&out[i], &out[j]) })
	if len(out) > maxSharedPositions {
		return out[:maxSharedPositions], len(out) - maxSharedPositions
	}
	return out, 0
}

// positionsLess orders partitions as the shared topic keys them: by topic,
// then by the partition number's decimal text ("t", 10 before "t", 9), so
// that every partition keeps its own record (package share keys the
// elements of an array by their key members only when that is their
// order; otherwise by position, and then one new partition would rewrite
// every record after it).
func positionsLess(a, b *PartitionPositions) bool {
	if a.Topic != b.Topic {
		return a.Topic < b.Topic
	}
	return strconv.Itoa(int(a.Partition)) < strconv.Itoa(int(b.Partition))
}

// ImportPositions takes another replica's positions into this index (the
// leader's, before its join): a type's segments on a partition replace
// the held ones when they reach further. Occurrences are not counted into
// the type stats (each replica shares its own).
func (x *Index) ImportPositions(parts []PartitionPositions) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(parts) > 0 {
		x.gen.Add(1)
	}
	for _, pp := range parts {
		p := x.partitionOf(pp.Topic, pp.Partition)
		if p == nil {
			return
		}
		for _, t := range pp.Types {
			ti, ok := x.typeOf(TypeKey{t.Type, t.Version})
			if !ok || len(t.Segs) == 0 || len(t.Segs) > maxSegments {
				continue
			}
			tp := p.positionsOf(ti)
			last := t.Segs[len(t.Segs)-1]
			if last[0]+last[1] <= tp.newest() {
				continue
			}
			tp.nseg = uint8(len(t.Segs))
			for j, s := range t.Segs {
				tp.segs[j] = segment{lo: s[0], span: uint32(s[1]), n: uint32(s[2]), loAt: uint32(s[3]), hiAt: uint32(s[4])}
			}
			x.touched(p)
		}
	}
}

// Overflow returns what went beyond the index's bounds.
func (x *Index) Overflow() map[string]int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.overflow) == 0 {
		return nil
	}
	out := make(map[string]int64, len(x.overflow))
	for k, v := range x.overflow {
		out[k] = v
	}
	return out
}

// RestoreReaders takes what an earlier process of this replica published
// as the leader (Resume): every group's last read of every type and
// version, unless this process found a later one.
func (x *Index) RestoreReaders(readers map[string][]Reader) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(readers) > 0 {
		x.gen.Add(1)
	}
	for key, rs := range readers {
		ti, ok := x.typeOf(keyOf(key))
		if !ok {
			continue
		}
		for _, r := range rs {
			gi, ok := x.groupID(r.Group)
			if !ok || r.LastRead.IsZero() {
				continue
			}
			byType := x.join.reads[gi]
			if int(ti) >= len(byType) {
				byType = append(byType, make([]readState, len(x.types)-len(byType))...)
				x.join.reads[gi] = byType
			}
			rs := &byType[ti]
			if ns := r.LastRead.UnixNano(); ns > rs.lastRead {
				rs.used, rs.lastRead, rs.estimated = true, ns, r.LastReadEstimated
			}
		}
	}
}
