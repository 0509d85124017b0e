package lag

import (
	"path"
	"sort"
	"strings"
)

// dlqBase returns the part of topic left when the literal part of the first
// matching DLQ pattern is removed ("content.deadletter" with "*.deadletter"
// gives "content"), and whether topic is a dead-letter topic at all.
func dlqBase(patterns []string, topic string) (string, bool) {
	for _, p := range patterns {
		if ok, _ := path.Match(p, topic); !ok {
			continue
		}
		switch {
		case strings.HasPrefix(p, "*") && !strings.ContainsAny(p[1:], "*?["):
			return strings.TrimSuffix(topic, p[1:]), true
		case strings.HasSuffix(p, "*") && !strings.ContainsAny(p[:len(p)-1], "*?["):
			return strings.TrimPrefix(topic, p[:len(p)-1]), true
		default:
			return topic, true
		}
	}
	return "", false
}

// buildDLQs finds the dead-letter topics among the topics in the state and
// computes their depth, size, growth and retention. When a topic named like
// the base exists, it is the source topic and the source service is
// Expectations.ServiceOfTopic of it, or its first dot-separated segment;
// otherwise the base name is the source service (the `service.deadletter`
// convention of standards/002).
func (c *Collector) buildDLQs() []DLQ {
	st := c.state
	var out []DLQ
	for topic, ts := range st.topics {
		base, ok := dlqBase(c.cfg.DLQPatterns, topic)
		if !ok || ts.lastCycle != st.cycle {
			continue
		}
		d := DLQ{Topic: topic, SourceService: base, RetentionSeconds: ts.retention}
		if _, exists := st.topics[base]; exists && base != topic {
			d.SourceTopic = base
			d.SourceService, _, _ = strings.Cut(base, ".")
		}
		// The service seen producing to the base topic (or, for a per-service
		// DLQ like content.deadletter, to the service's topics) names it best.
		if svc := c.exp.serviceOf(base); svc != "" {
			d.SourceService = svc
		}
		d.DepthRecords, d.Records = dlqSize(st, ts)
		d.NewRecords = st.newRecords(ts)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// dlqSize sums end - start (depth) and end (records ever written) over the
// partitions whose offsets were listed this cycle.
func dlqSize(st *state, ts *topicState) (depth, records int64) {
	sl := st.slot(st.cycle)
	for p := range ts.partitions {
		i := p*st.window + sl
		end, start := ts.ends[i], ts.starts[i]
		if end < 0 {
			continue
		}
		records += end
		if start >= 0 && end > start {
			depth += end - start
		}
	}
	return depth, records
}

// DLQBase reports whether topic is a dead-letter topic under the config's
// DLQ patterns and returns its base name ("content.deadletter" gives
// "content"): the audit engine uses it to apply dlq.missing_error_context to
// sampled records of dead-letter topics only.
func (c *Config) DLQBase(topic string) (string, bool) {
	patterns := c.DLQPatterns
	if patterns == nil {
		var d Config
		d.SetDefaults()
		patterns = d.DLQPatterns
	}
	return dlqBase(patterns, topic)
}
