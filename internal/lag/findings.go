package lag

import (
	"math"
	"sort"
)

// findings collects, per non-OK status of a group's topic, how many
// partitions have it and the worst of them.
type findings struct {
	by [StatusUnknown + 1]*StatusFinding
}

// add counts one partition; OK and UNKNOWN partitions are no finding.
func (f *findings) add(pl *PartitionLag) {
	if pl.Status == StatusOK || pl.Status == StatusUnknown {
		return
	}
	waiting := findingWait(pl)
	cur := f.by[pl.Status]
	if cur == nil {
		f.by[pl.Status] = &StatusFinding{Status: pl.Status, Reason: pl.Reason, Partitions: 1, Partition: pl.Partition,
			Committed: pl.Committed, Waiting: waiting, clk: pl.clk}
		return
	}
	cur.Partitions++
	if waiting > cur.Waiting {
		cur.Reason, cur.Partition, cur.Committed, cur.Waiting, cur.clk = pl.Reason, pl.Partition, pl.Committed, waiting, pl.clk
	}
}

// findingWait is how long a partition's finding has lasted: for STOP and
// STALL the time data waited without the offset moving, for the others
// the age of the oldest waiting record (its time lag; 0 when unknown).
func findingWait(pl *PartitionLag) Seconds {
	if pl.Status == StatusStop || pl.Status == StatusStall {
		return pl.WaitingSeconds
	}
	if !pl.LagSeconds.Known() {
		return 0
	}
	return pl.LagSeconds
}

// list returns the findings, worst status first.
func (f *findings) list() []StatusFinding {
	var out []StatusFinding
	for _, x := range f.by {
		if x != nil {
			out = append(out, *x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return severity[out[i].Status] > severity[out[j].Status] })
	return out
}

// noOwner is the owner index of a partition no member is assigned;
// anyMember that of every partition of a group whose assignments cannot
// be decoded (any member counts as its owner).
const (
	noOwner   = -2
	anyMember = -1
)

// ownerOf returns the index of the member assigned the partition, anyMember
// when the group has members whose assignments cannot be decoded, noOwner
// when nobody is assigned it.
func (g *groupInfo) ownerOf(topic string, p int32) int {
	if g == nil || g.members == 0 {
		return noOwner
	}
	if g.assign == nil {
		return anyMember
	}
	if o, ok := g.assign[topic][p]; ok {
		return o
	}
	return noOwner
}

// timeToLoss is how long until retention may delete the first record the
// group has not read on a partition: by time (retention.ms minus the
// record's age, its time lag) and by size (retention.bytes minus the bytes
// from that record to the end, at the rate bytes arrive); the smaller of
// the two, never negative. NaN when nothing waits or neither limit applies.
//
// It sets the time to loss of pl's anchors (clock.ttlAt): the retention
// part is a function of the time lag, the size part is not.
func (c *Collector) timeToLoss(ts *topicState, p int, pl *PartitionLag, r partRates) {
	pl.clk.ttl, pl.clk.size = ttlFixed, math.NaN()
	if !pl.LagKnown || pl.LagRecords == 0 || ts.compacted && !ts.deletes {
		return
	}
	if ts.retention > 0 && pl.LagSeconds.Known() {
		pl.clk.ttl, pl.clk.ret = ttlRetention, ts.retention
	}
	pl.clk.size = ts.timeToSizeLoss(p, pl, r)
}

// timeToSizeLoss is the retention.bytes part of timeToLoss: the partition
// holds size bytes for end-start records; the bytes from the first unread
// record to the end are the lag's share of them; retention deletes that
// record once retention.bytes - those bytes have been appended, at the
// production rate times the average record size.
func (ts *topicState) timeToSizeLoss(p int, pl *PartitionLag, r partRates) float64 {
	if ts.retentionBytes <= 0 || p >= len(ts.sizes) || ts.sizes[p] <= 0 || pl.Start < 0 || pl.End <= pl.Start {
		return math.NaN()
	}
	perRecord := float64(ts.sizes[p]) / float64(pl.End-pl.Start)
	room := float64(ts.retentionBytes) - perRecord*float64(pl.LagRecords)
	switch {
	case room <= 0:
		return 0
	case !r.ok || r.produced <= 0:
		return math.NaN()
	}
	return room / (r.produced * perRecord)
}
