package lag

import (
	"math"
	"time"
)

// SameFacts reports whether a and b hold the same facts: every field
// equal, floats compared bit for bit (so an unknown NaN equals itself), at
// every depth (topics, findings, partitions, max lag), except that the
// figures derived from anchors and time (the fields tagged
// clock:"derived": time lags, waiting times, times to loss, breach
// seconds, the why sentence) are compared by their anchors, not by their
// values. Two such views render the same page at any one time
// (AppendGroupTemplate, RenderGroupTemplate); the share path publishes a
// group only when its facts change.
func SameFacts(a, b *GroupLag) bool { return sameFacts(a, b) }

// sameFacts is SameFacts written out field by field: the share path asks
// it for every group every cycle, where reflection cost more than the
// rest of the share path (TestSameFactsKnowsEveryField keeps it in step
// with the fields).
func sameFacts(a, b *GroupLag) bool {
	return a.Group == b.Group && a.Protocol == b.Protocol && a.State == b.State && a.Members == b.Members &&
		a.Status == b.Status && a.Cause == b.Cause && a.LagRecords == b.LagRecords && a.AllowedLag == b.AllowedLag &&
		a.Complete == b.Complete && sameFloat(a.CompleteFraction, b.CompleteFraction) &&
		a.UnknownPartitions == b.UnknownPartitions && sameFloat(float64(a.DrainSeconds), float64(b.DrainSeconds)) &&
		a.LostRecords == b.LostRecords && a.Error == b.Error && a.Stale == b.Stale && a.frozen == b.frozen &&
		a.lagClk.same(&b.lagClk) && a.ttlClk.same(&b.ttlClk) && a.breach.base == b.breach.base && a.breach.since == b.breach.since &&
		a.why.pre == b.why.pre && a.why.post == b.why.post && a.why.hole == b.why.hole && a.why.c.same(&b.why.c) &&
		sameMaxLag(a.MaxLag, b.MaxLag) && sameSlice(a.Topics, b.Topics, sameTopicFacts)
}

func sameTopicFacts(a, b *TopicLag) bool {
	return a.Topic == b.Topic && a.LagRecords == b.LagRecords && a.Status == b.Status && a.Committed == b.Committed &&
		a.UnknownPartitions == b.UnknownPartitions && a.LagSecondsSource == b.LagSecondsSource &&
		a.ExactPartitions == b.ExactPartitions && a.EstimatedPartitions == b.EstimatedPartitions &&
		sameFloat(float64(a.ConsumeRate), float64(b.ConsumeRate)) && sameFloat(float64(a.ProduceRate), float64(b.ProduceRate)) &&
		sameFloat(float64(a.DrainSeconds), float64(b.DrainSeconds)) && a.LostRecords == b.LostRecords &&
		a.lagClk.same(&b.lagClk) && a.ttlClk.same(&b.ttlClk) &&
		sameSlice(a.Findings, b.Findings, sameFindingFacts) && sameSlice(a.Partitions, b.Partitions, samePartitionFacts)
}

func sameFindingFacts(a, b *StatusFinding) bool {
	return a.Status == b.Status && a.Reason == b.Reason && a.Partitions == b.Partitions && a.Partition == b.Partition &&
		a.Committed == b.Committed && a.clk.same(&b.clk)
}

func samePartitionFacts(a, b *PartitionLag) bool {
	return a.Partition == b.Partition && a.Committed == b.Committed && a.End == b.End && a.LagRecords == b.LagRecords &&
		a.LagKnown == b.LagKnown && a.Status == b.Status && a.Owned == b.Owned && a.LagSecondsSource == b.LagSecondsSource &&
		a.Start == b.Start && a.Reason == b.Reason && sameTime(a.LastCommit, b.LastCommit) && a.clk.same(&b.clk)
}

func sameMaxLag(a, b *MaxLag) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Topic == b.Topic && samePartitionFacts(&a.PartitionLag, &b.PartitionLag)
}

// sameSlice compares two slices element by element (nil and empty
// differ, as encoding/json writes them differently).
func sameSlice[T any](a, b []T, same func(a, b *T) bool) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if !same(&a[i], &b[i]) {
			return false
		}
	}
	return true
}

// sameFloat compares bit for bit (an unknown NaN equals itself).
func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func (c *anchors) same(d *anchors) bool {
	return c.lag == d.lag && c.wait == d.wait && c.ttl == d.ttl && sameFloat(c.fixed, d.fixed) && c.at == d.at &&
		sameFloat(c.est, d.est) && c.moved == d.moved && c.since == d.since && sameFloat(c.ret, d.ret) && sameFloat(c.size, d.size)
}

// sameTime: the same instant in the same location (JSON writes both).
func sameTime(a, b time.Time) bool { return a.Equal(b) && a.Location() == b.Location() }
