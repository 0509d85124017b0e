package lag

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/eventwatch/eventwatch/internal/metrics"
)

// snapshotFamilies are the metric families written from a snapshot (and
// never registered on a registry), in exposition order.
var snapshotFamilies = []metrics.Spec{
	metrics.LagObjective, metrics.ClusterBrokers,
	metrics.GroupMembers, metrics.GroupInfo, metrics.LagObjectiveBreach, metrics.GroupStatus,
	metrics.GroupLagRecords, metrics.GroupLagSeconds, metrics.GroupPartitionLagRecords, metrics.GroupPartitionLagSeconds,
	metrics.GroupStatusPartitions, metrics.GroupWaitingSeconds, metrics.GroupDrainSeconds, metrics.GroupConsumeRate,
	metrics.GroupProduceRate, metrics.GroupLostRecords, metrics.GroupTimeToLoss, metrics.GroupExactPartitions,
	metrics.DLQDepth, metrics.DLQRecords, metrics.DLQNewRecords, metrics.DLQRetention, metrics.ClusterRuleViolations,
	metrics.SamplingPartitions, metrics.SamplingUnaudited, metrics.SamplingPositionLag,
}

// isSnapshotFamily reports whether name is written from the snapshot.
func isSnapshotFamily(name string) bool {
	for _, s := range snapshotFamilies {
		if s.Name == name {
			return true
		}
	}
	return false
}

// exposition is a snapshot's metrics in the Prometheus text format (0.0.4),
// encoded once when the snapshot is published: gzip always, and plain too
// unless the granularity is partition (then a plain scrape streams the
// text from the snapshot instead of keeping a copy ten times the size of
// the gzip one).
type exposition struct {
	snap       *Snapshot
	partitions bool
	plain      []byte // nil with granularity partition
	gz         []byte // one complete gzip member
}

// newExposition encodes snap; prev (nil for the first) is the previous
// cycle's, whose sizes size the buffers: grown from empty, they were a
// quarter of what a cycle allocates at 10,000 partitions.
func newExposition(snap *Snapshot, partitions bool, prev *exposition) (*exposition, error) {
	e := &exposition{snap: snap, partitions: partitions}
	var gzBuf, plain bytes.Buffer
	if prev != nil {
		gzBuf.Grow(len(prev.gz) + len(prev.gz)/8)
		if !partitions {
			plain.Grow(len(prev.plain) + len(prev.plain)/8)
		}
	}
	enc := encoders.Get().(*encoder)
	if enc.zw == nil {
		zw, err := gzip.NewWriterLevel(&gzBuf, gzip.BestSpeed)
		if err != nil {
			return nil, fmt.Errorf("encode lag exposition: %w", err)
		}
		enc.zw, enc.bw = zw, bufio.NewWriterSize(io.Discard, 64<<10)
	}
	defer encoders.Put(enc)
	zw := enc.zw
	zw.Reset(&gzBuf)
	defer zw.Reset(io.Discard) // the pooled compressor must not hold this cycle's buffer
	var dst io.Writer = zw
	if !partitions {
		dst = io.MultiWriter(zw, &plain)
	}
	bw := enc.bw
	bw.Reset(dst)
	defer bw.Reset(nil) // nor the pooled write buffer its destination
	if err := writeSnapshot(bw, snap, partitions); err != nil {
		return nil, fmt.Errorf("encode lag exposition: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("encode lag exposition: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode lag exposition: %w", err)
	}
	e.gz = gzBuf.Bytes()
	if !partitions {
		e.plain = plain.Bytes()
	}
	return e, nil
}

// encoder is the compressor and buffer one exposition is written through:
// pooled, so a lag cycle does not allocate a compressor's window and hash
// tables (900 KB) and a 64 KiB buffer again each time.
type encoder struct {
	zw *gzip.Writer
	bw *bufio.Writer
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// writePlain writes the text exposition to w.
func (e *exposition) writePlain(w io.Writer) error {
	if e.plain != nil || !e.partitions {
		_, err := w.Write(e.plain)
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := writeSnapshot(bw, e.snap, e.partitions); err != nil {
		return err
	}
	return bw.Flush()
}

// textWriter appends exposition lines for one family at a time; the
// family's HELP and TYPE are written before its first sample, so a family
// without samples is absent, as from a registry.
type textWriter struct {
	w       *bufio.Writer
	line    []byte
	spec    metrics.Spec
	started bool
}

func (t *textWriter) family(s metrics.Spec) { t.spec, t.started = s, false }

// sample writes one sample; labels are name/value pairs sorted by name.
func (t *textWriter) sample(v float64, labels ...string) {
	b := t.line[:0]
	if !t.started {
		t.started = true
		b = append(b, "# HELP "...)
		b = append(b, t.spec.Name...)
		b = append(b, ' ')
		b = appendEscaped(b, t.spec.Help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, t.spec.Name...)
		b = append(b, ' ')
		b = append(b, t.spec.Kind...)
		b = append(b, '\n')
	}
	b = append(b, t.spec.Name...)
	for i := 0; i+1 < len(labels); i += 2 {
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, labels[i]...)
		b = append(b, '=', '"')
		b = appendEscaped(b, labels[i+1], true)
		b = append(b, '"')
	}
	if len(labels) > 0 {
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, v)
	b = append(b, '\n')
	t.line = b
	_, _ = t.w.Write(b) // a bufio.Writer keeps its first error for Flush
}

// appendEscaped escapes a HELP text (backslash, newline) or a label value
// (also the double quote) as the text format requires.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !strings.ContainsAny(s, "\\\n\"") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat formats v as expfmt does.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(b, '1')
	case v == 0:
		return append(b, '0')
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// writeSnapshot writes every snapshot family of s, family by family.
func writeSnapshot(w *bufio.Writer, s *Snapshot, partitions bool) error {
	t := &textWriter{w: w, line: make([]byte, 0, 512)}
	t.family(metrics.LagObjective)
	t.sample(s.Objective)
	t.family(metrics.ClusterBrokers)
	t.sample(float64(s.Brokers))
	writeGroups(t, s.Groups, partitions)
	writeDLQs(t, s)
	t.family(metrics.ClusterRuleViolations)
	for _, v := range s.Violations {
		t.sample(1, "resource", v.Resource, "rule", v.Rule, "severity", v.Severity)
	}
	writeCoverage(t, s.Coverage)
	return w.Flush()
}

// writeCoverage writes the sampler group's coverage per topic; nothing
// when it was not measured. When the assignment could not be read, only
// stalled positions count as unaudited.
func writeCoverage(t *textWriter, c *Coverage) {
	if c == nil {
		return
	}
	t.family(metrics.SamplingPartitions)
	for _, ct := range c.Topics {
		t.sample(float64(ct.Partitions), "topic", ct.Topic)
	}
	t.family(metrics.SamplingUnaudited)
	for _, ct := range c.Topics {
		t.sample(float64(ct.Unaudited), "topic", ct.Topic)
	}
	t.family(metrics.SamplingPositionLag)
	for _, ct := range c.Topics {
		t.sample(float64(ct.LagRecords), "topic", ct.Topic)
	}
}

func writeGroups(t *textWriter, groups []GroupLag, partitions bool) {
	t.family(metrics.GroupMembers)
	for i := range groups {
		t.sample(float64(groups[i].Members), "group", groups[i].Group)
	}
	t.family(metrics.GroupInfo)
	for i := range groups {
		g := &groups[i]
		t.sample(1, "group", g.Group, "protocol", g.Protocol, "state", g.State)
	}
	t.family(metrics.LagObjectiveBreach)
	for i := range groups {
		t.sample(groups[i].BreachSeconds, "group", groups[i].Group)
	}
	t.family(metrics.GroupStatus)
	for i := range groups {
		g := &groups[i]
		for _, s := range AllStatuses {
			on := s == g.Status || (g.Status == StatusErr && s == g.Cause)
			t.sample(boolFloat(on), "group", g.Group, "status", s.String())
		}
	}
	t.family(metrics.GroupLagRecords)
	for i := range groups {
		for j := range groups[i].Topics {
			if tl := &groups[i].Topics[j]; tl.UnknownPartitions < tl.Committed {
				t.sample(float64(tl.LagRecords), "group", groups[i].Group, "topic", tl.Topic)
			}
		}
	}
	t.family(metrics.GroupLagSeconds)
	for i := range groups {
		for j := range groups[i].Topics {
			if tl := &groups[i].Topics[j]; tl.LagSeconds.Known() {
				t.sample(float64(tl.LagSeconds), "group", groups[i].Group, "topic", tl.Topic)
			}
		}
	}
	writeFindings(t, groups)
	writeTopicFigures(t, groups)
	if partitions {
		writePartitions(t, groups)
	}
}

// partitionLabel returns the label value of partition p.
func partitionLabel(p int32) string { return strconv.Itoa(int(p)) }

// writeFindings writes the partitions per non-OK status and the worst one
// of each, per group and topic.
func writeFindings(t *textWriter, groups []GroupLag) {
	t.family(metrics.GroupStatusPartitions)
	eachTopic(groups, func(g *GroupLag, tl *TopicLag) {
		for _, f := range tl.Findings {
			t.sample(float64(f.Partitions), "group", g.Group, "status", f.Status.String(), "topic", tl.Topic)
		}
	})
	t.family(metrics.GroupWaitingSeconds)
	eachTopic(groups, func(g *GroupLag, tl *TopicLag) {
		for _, f := range tl.Findings {
			t.sample(float64(f.Waiting), "group", g.Group, "partition", partitionLabel(f.Partition), "status", f.Status.String(), "topic", tl.Topic)
		}
	})
}

// writeTopicFigures writes drain time, rates, data loss, time to loss and
// the exact share of time lag, per group and topic; unknown values are
// absent.
func writeTopicFigures(t *textWriter, groups []GroupLag) {
	figures := []struct {
		spec metrics.Spec
		v    func(*TopicLag) float64
	}{
		{metrics.GroupDrainSeconds, func(tl *TopicLag) float64 { return float64(tl.DrainSeconds) }},
		{metrics.GroupConsumeRate, func(tl *TopicLag) float64 { return float64(tl.ConsumeRate) }},
		{metrics.GroupProduceRate, func(tl *TopicLag) float64 { return float64(tl.ProduceRate) }},
		{metrics.GroupLostRecords, func(tl *TopicLag) float64 { return float64(tl.LostRecords) }},
		{metrics.GroupTimeToLoss, func(tl *TopicLag) float64 { return float64(tl.TimeToLoss) }},
		{metrics.GroupExactPartitions, exactRatio},
	}
	for _, f := range figures {
		t.family(f.spec)
		eachTopic(groups, func(g *GroupLag, tl *TopicLag) {
			if v := f.v(tl); !math.IsNaN(v) {
				t.sample(v, "group", g.Group, "topic", tl.Topic)
			}
		})
	}
}

// exactRatio is the share of a topic's lagging partitions with an exact
// time lag; NaN (absent) when none lags.
func exactRatio(tl *TopicLag) float64 {
	n := tl.ExactPartitions + tl.EstimatedPartitions
	if n == 0 {
		return math.NaN()
	}
	return float64(tl.ExactPartitions) / float64(n)
}

// eachTopic calls fn for every topic of every group, in order.
func eachTopic(groups []GroupLag, fn func(*GroupLag, *TopicLag)) {
	for i := range groups {
		for j := range groups[i].Topics {
			fn(&groups[i], &groups[i].Topics[j])
		}
	}
}

// writePartitions writes the two per-partition families.
func writePartitions(t *textWriter, groups []GroupLag) {
	var names []string // partition labels, "0", "1", ...
	for _, seconds := range []bool{false, true} {
		if seconds {
			t.family(metrics.GroupPartitionLagSeconds)
		} else {
			t.family(metrics.GroupPartitionLagRecords)
		}
		for i := range groups {
			g := &groups[i]
			for j := range g.Topics {
				tl := &g.Topics[j]
				for k := range tl.Partitions {
					pl := &tl.Partitions[k]
					if !pl.LagKnown || (seconds && !pl.LagSeconds.Known()) {
						continue
					}
					for int(pl.Partition) >= len(names) {
						names = append(names, strconv.Itoa(len(names)))
					}
					part := names[pl.Partition]
					v := float64(pl.LagRecords)
					if seconds {
						v = float64(pl.LagSeconds)
					}
					t.sample(v, "group", g.Group, "partition", part, "topic", tl.Topic)
				}
			}
		}
	}
}

func writeDLQs(t *textWriter, s *Snapshot) {
	t.family(metrics.DLQDepth)
	for _, d := range s.DLQs {
		t.sample(float64(d.DepthRecords), "source_service", d.SourceService, "topic", d.Topic)
	}
	t.family(metrics.DLQRecords)
	for _, d := range s.DLQs {
		t.sample(float64(d.Records), "source_service", d.SourceService, "topic", d.Topic)
	}
	t.family(metrics.DLQNewRecords)
	for _, d := range s.DLQs {
		t.sample(float64(d.NewRecords), "source_service", d.SourceService, "topic", d.Topic)
	}
	t.family(metrics.DLQRetention)
	for _, d := range s.DLQs {
		if d.RetentionSeconds != 0 {
			t.sample(d.RetentionSeconds, "topic", d.Topic)
		}
	}
}
