package lag

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// AppendPageGroup appends the JSON of g as the groups page lists it:
// exactly json.Marshal(PageGroup(*g)), byte for byte, written field by
// field instead of through reflection. The share path renders every
// changed group every lag cycle (500 groups × 20 topics at 10k
// partitions), where encoding/json's reflection and its re-validation of
// every Seconds value cost most of the rendering. A value the writer does
// not write itself (a string to escape, a float out of 'f' range, a time)
// goes through encoding/json, so the output never differs;
// TestAppendPageGroupIsJSONMarshal and FuzzAppendPageGroup compare the two.
func AppendPageGroup(dst []byte, g *GroupLag) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.group(g)
	return w.b, w.err
}

// group writes g as AppendPageGroup does; with a template (w.tpl), its
// figures derived from anchors become holes (AppendGroupTemplate).
func (w *jsonWriter) group(g *GroupLag) {
	w.key('{', "group")
	w.str(g.Group)
	w.key(',', "protocol")
	w.str(g.Protocol)
	w.key(',', "state")
	w.str(g.State)
	w.key(',', "members")
	w.int(int64(g.Members))
	w.key(',', "status")
	w.str(g.Status.String())
	w.key(',', "status_cause")
	w.str(g.Cause.String())
	w.key(',', "why")
	w.why(g.Why, &g.why)
	w.key(',', "lag_records")
	w.int(g.LagRecords)
	w.key(',', "lag_seconds")
	w.derived(g.LagSeconds, hole{kind: holeLag, a: g.lagClk})
	w.key(',', "lag_objective_breach_seconds")
	if w.tpl != nil {
		w.hole(hole{kind: holeBreach, breach: g.breach})
	} else {
		w.float(g.BreachSeconds)
	}
	w.key(',', "allowed_lag")
	w.int(g.AllowedLag)
	w.key(',', "max_lag")
	w.maxLag(g.MaxLag)
	w.key(',', "complete")
	w.bool(g.Complete)
	w.key(',', "complete_fraction")
	w.float(g.CompleteFraction)
	w.key(',', "lag_unknown_partitions")
	w.int(int64(g.UnknownPartitions))
	w.key(',', "drain_seconds")
	w.seconds(g.DrainSeconds)
	w.key(',', "lost_records")
	w.int(g.LostRecords)
	w.key(',', "time_to_loss_seconds")
	w.derived(g.TimeToLoss, hole{kind: holeTTL, a: g.ttlClk})
	if len(g.Topics) > 0 {
		w.key(',', "topics")
		for i := range g.Topics {
			w.elem(i)
			w.topic(&g.Topics[i])
		}
		w.b = append(w.b, ']')
	}
	if g.Error != "" {
		w.key(',', "error")
		w.str(g.Error)
	}
	if g.Stale {
		w.key(',', "stale")
		w.bool(true)
	}
	w.b = append(w.b, '}')
}

// topic writes t without its per-partition rows (PageGroup).
func (w *jsonWriter) topic(t *TopicLag) {
	w.key('{', "topic")
	w.str(t.Topic)
	w.key(',', "lag_records")
	w.int(t.LagRecords)
	w.key(',', "lag_seconds")
	w.derived(t.LagSeconds, hole{kind: holeLag, a: t.lagClk})
	w.key(',', "status")
	w.str(t.Status.String())
	w.key(',', "partition_count")
	w.int(int64(t.Committed))
	if t.UnknownPartitions != 0 {
		w.key(',', "lag_unknown_partitions")
		w.int(int64(t.UnknownPartitions))
	}
	if t.LagSecondsSource != "" {
		w.key(',', "lag_seconds_source")
		w.str(t.LagSecondsSource)
	}
	w.key(',', "lag_seconds_exact_partitions")
	w.int(int64(t.ExactPartitions))
	w.key(',', "lag_seconds_estimated_partitions")
	w.int(int64(t.EstimatedPartitions))
	w.key(',', "consume_records_per_second")
	w.seconds(Seconds(t.ConsumeRate))
	w.key(',', "produce_records_per_second")
	w.seconds(Seconds(t.ProduceRate))
	w.key(',', "drain_seconds")
	w.seconds(t.DrainSeconds)
	w.key(',', "lost_records")
	w.int(t.LostRecords)
	w.key(',', "time_to_loss_seconds")
	w.derived(t.TimeToLoss, hole{kind: holeTTL, a: t.ttlClk})
	if len(t.Findings) > 0 {
		w.key(',', "findings")
		for i := range t.Findings {
			w.elem(i)
			w.finding(&t.Findings[i])
		}
		w.b = append(w.b, ']')
	}
	w.b = append(w.b, '}')
}

func (w *jsonWriter) finding(f *StatusFinding) {
	w.key('{', "status")
	w.str(f.Status.String())
	w.key(',', "reason")
	w.str(f.Reason)
	w.key(',', "partitions")
	w.int(int64(f.Partitions))
	w.key(',', "partition")
	w.int(int64(f.Partition))
	w.key(',', "committed")
	w.int(f.Committed)
	w.key(',', "waiting_seconds")
	w.derived(f.Waiting, hole{kind: holeFinding, status: f.Status, a: f.clk})
	w.b = append(w.b, '}')
}

// maxLag writes m (null when nil) as encoding/json does: its topic, then
// the embedded partition's fields.
func (w *jsonWriter) maxLag(m *MaxLag) {
	if m == nil {
		w.b = append(w.b, "null"...)
		return
	}
	p := &m.PartitionLag
	w.key('{', "topic")
	w.str(m.Topic)
	w.key(',', "partition")
	w.int(int64(p.Partition))
	w.key(',', "committed")
	w.int(p.Committed)
	w.key(',', "end")
	w.int(p.End)
	w.key(',', "lag_records")
	w.int(p.LagRecords)
	w.key(',', "lag_known")
	w.bool(p.LagKnown)
	w.key(',', "lag_seconds")
	w.derived(p.LagSeconds, hole{kind: holeLag, a: p.clk})
	w.key(',', "status")
	w.str(p.Status.String())
	w.key(',', "owned")
	w.bool(p.Owned)
	if p.LagSecondsSource != "" {
		w.key(',', "lag_seconds_source")
		w.str(p.LagSecondsSource)
	}
	w.key(',', "log_start")
	w.int(p.Start)
	w.key(',', "reason")
	w.str(p.Reason)
	w.key(',', "waiting_seconds")
	w.derived(p.WaitingSeconds, hole{kind: holeWaiting, a: p.clk})
	w.key(',', "time_to_loss_seconds")
	w.derived(p.TimeToLoss, hole{kind: holeTTL, a: p.clk})
	if !p.LastCommit.IsZero() {
		w.key(',', "last_commit")
		w.marshal(p.LastCommit)
	}
	w.b = append(w.b, '}')
}

// jsonWriter appends JSON; the first error stops nothing but is returned.
// With tpl, it writes a template (AppendGroupTemplate).
type jsonWriter struct {
	b   []byte
	err error
	tpl *template
}

// key writes sep and "name": (names are plain ASCII, written as they are).
func (w *jsonWriter) key(sep byte, name string) {
	w.b = append(w.b, sep, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

// elem opens an array before its element 0, separates the others.
func (w *jsonWriter) elem(i int) {
	if i == 0 {
		w.b = append(w.b, '[')
	} else {
		w.b = append(w.b, ',')
	}
}

func (w *jsonWriter) int(n int64) { w.b = strconv.AppendInt(w.b, n, 10) }

func (w *jsonWriter) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// seconds writes s as Seconds.MarshalJSON does (null when unknown);
// infinities go through encoding/json, which refuses them as it always did.
func (w *jsonWriter) seconds(s Seconds) {
	if math.IsInf(float64(s)*1000, 0) { // Inf, or rounded to it: refused by encoding/json
		w.marshal(s)
		return
	}
	w.b = s.appendJSON(w.b)
}

// float writes f as encoding/json does when it is in its 'f' range; other
// values go through encoding/json.
func (w *jsonWriter) float(f float64) {
	if a := math.Abs(f); math.IsInf(f, 0) || math.IsNaN(f) || a != 0 && (a < 1e-6 || a >= 1e21) {
		w.marshal(f)
		return
	}
	w.b = strconv.AppendFloat(w.b, f, 'f', -1, 64)
}

// str writes s quoted, as encoding/json does.
func (w *jsonWriter) str(s string) { w.b = appendJSONString(w.b, s) }

func (w *jsonWriter) marshal(v any) {
	js, err := json.Marshal(v)
	if err != nil {
		w.err = errors.Join(w.err, err)
		return
	}
	w.b = append(w.b, js...)
}
