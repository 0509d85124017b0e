package trace

import (
	"maps"
	"math"
	"slices"
	"time"
)

// sketchGamma is the relative width of a sketch bucket: a percentile read
// from a sketch is within 1% of the exact one.
const sketchGamma = 1.02

// zeroBucket holds latencies under a microsecond (and negative ones, from
// skewed clocks).
const zeroBucket = -1

// sketch summarises latencies so that summaries of several replicas merge
// exactly: counts in logarithmic buckets, plus the exact minimum and
// maximum. Its JSON form is what replicas share.
type sketch struct {
	N       uint64           `json:"n"`      // latencies summarised
	Min     time.Duration    `json:"min_ns"` // smallest
	Max     time.Duration    `json:"max_ns"` // largest
	Buckets map[int32]uint64 `json:"b"`      // bucket index -> count
}

var logGamma = math.Log(sketchGamma)

func bucketOf(d time.Duration) int32 {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return zeroBucket
	}
	return int32(math.Floor(math.Log(us) / logGamma))
}

// bucketValue is the middle of bucket i (geometrically).
func bucketValue(i int32) time.Duration {
	if i == zeroBucket {
		return 0
	}
	return time.Duration(math.Pow(sketchGamma, float64(i)+0.5) * float64(time.Microsecond))
}

func (s *sketch) add(d time.Duration) {
	if s.Buckets == nil {
		s.Buckets = map[int32]uint64{}
	}
	if s.N == 0 || d < s.Min {
		s.Min = d
	}
	if s.N == 0 || d > s.Max {
		s.Max = d
	}
	s.N++
	s.Buckets[bucketOf(d)]++
}

// remove takes back one latency added before (a flow or hop that a late
// event changed). The minimum and maximum stay as they were.
func (s *sketch) remove(d time.Duration) {
	b := bucketOf(d)
	if s.N == 0 || s.Buckets[b] == 0 {
		return
	}
	s.N--
	if s.Buckets[b]--; s.Buckets[b] == 0 {
		delete(s.Buckets, b)
	}
}

// merge adds o's latencies to s.
func (s *sketch) merge(o sketch) {
	if o.N == 0 {
		return
	}
	if s.Buckets == nil {
		s.Buckets = map[int32]uint64{}
	}
	if s.N == 0 || o.Min < s.Min {
		s.Min = o.Min
	}
	if s.N == 0 || o.Max > s.Max {
		s.Max = o.Max
	}
	s.N += o.N
	for i, n := range o.Buckets {
		s.Buckets[i] += n
	}
}

func (s sketch) clone() sketch {
	s.Buckets = maps.Clone(s.Buckets)
	return s
}

// quantile is the latency of rank q·(N-1) in order, within the bucket
// width, clamped to the exact minimum and maximum.
func (s sketch) quantile(q float64) time.Duration {
	rank := uint64(q * float64(s.N-1))
	idx := slices.Sorted(maps.Keys(s.Buckets))
	var seen uint64
	for _, i := range idx {
		seen += s.Buckets[i]
		if seen > rank {
			return min(max(bucketValue(i), s.Min), s.Max)
		}
	}
	return s.Max
}

func (s sketch) percentiles() Percentiles {
	if s.N == 0 {
		return Percentiles{}
	}
	return Percentiles{Samples: int(s.N), P50: s.quantile(0.5).Seconds(), P90: s.quantile(0.9).Seconds(),
		P99: s.quantile(0.99).Seconds(), Max: s.Max.Seconds()}
}
