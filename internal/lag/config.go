package lag

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"time"
)

// Granularity values for Config.Granularity.
const (
	GranularityTopic     = "topic"     // one series per group and topic
	GranularityPartition = "partition" // also one series per group, topic and partition
)

// Config is the lag collector's configuration, the `lag:` section of the
// daemon's YAML file. Call SetDefaults before decoding and Validate after.
type Config struct {
	Interval          time.Duration `yaml:"interval"`                 // time between two collection cycles; default 15s, at least 1s
	SamplingStall     time.Duration `yaml:"sampling_stall_after"`     // a sampled partition whose stored position has not moved this long while records arrived counts as unaudited; default 30s
	Granularity       string        `yaml:"granularity"`              // topic (default) or partition: whether per-partition series are exported
	GroupsInclude     []string      `yaml:"groups_include"`           // regexes (anchored); a group is watched when it matches one; default: all
	GroupsExclude     []string      `yaml:"groups_exclude"`           // regexes (anchored); a matching group is ignored
	TopicsInclude     []string      `yaml:"topics_include"`           // regexes (anchored) for topics whose lag is reported; default: all
	TopicsExclude     []string      `yaml:"topics_exclude"`           // regexes (anchored); default: internal topics starting with "__"
	StatusWindow      int           `yaml:"status_window"`            // cycles in the sliding window the status is computed over; default 10, at least 3
	LagObjective      float64       `yaml:"lag_objective_seconds"`    // time lag a group should stay under; reports count breach time; default 60
	DLQPatterns       []string      `yaml:"dlq_patterns"`             // glob patterns naming dead-letter topics; default *.deadletter, *.dlq, *-dlq, *.DLQ, *.DLT (Spring DeadLetterPublishingRecoverer), *-dlt (Spring @RetryableTopic)
	MaxConcurrent     int           `yaml:"max_concurrent_requests"`  // admin requests in flight at once; default 4
	OffsetsTableSize  int           `yaml:"offsets_table_size"`       // (end offset, time) samples kept per partition for time lag; default 60, at least 2
	FetchGroupsPerReq int           `yaml:"fetch_groups_per_request"` // groups batched into one OffsetFetch request; default 10
	AllowedLag        int64         `yaml:"allowed_lag"`              // lag (records per partition) treated as caught up; default 0
	AllowedLagGroups  []AllowedLag  `yaml:"allowed_lag_groups"`       // per-group overrides of allowed_lag; the first matching rule wins
	StopAfter         time.Duration `yaml:"stop_after"`               // data waiting this long without the offset moving is STOP (no owner) or STALL (owned); default 60s
	ShowOwnGroups     bool          `yaml:"show_own_groups"`          // also report eventwatch's own consumer groups (sampler, leader, trace routing); default false
	ExactTimeLag      *bool         `yaml:"exact_time_lag"`           // read the record at the committed offset for its timestamp; default true
	RecordLookups     int           `yaml:"record_lookups_per_cycle"` // partitions whose records are fetched for exact time lag per cycle; default 2000

	compiled compiled
}

// AllowedLag overrides lag.allowed_lag for the groups matching a regex,
// e.g. consumers of transactional topics, which stay one record (the
// commit marker) behind an idle topic.
type AllowedLag struct {
	Groups     string `yaml:"groups"`      // regex (anchored) over group ids
	AllowedLag int64  `yaml:"allowed_lag"` // records per partition
}

type compiled struct {
	groupsIn, groupsEx, topicsIn, topicsEx []*regexp.Regexp
	allowed                                []*regexp.Regexp // one per AllowedLagGroups rule
}

// SetDefaults fills every unset field with its default. It is safe to call
// before decoding YAML into c (decoded values then override the defaults).
func (c *Config) SetDefaults() {
	if c.SamplingStall == 0 {
		c.SamplingStall = 30 * time.Second
	}
	if c.Interval == 0 {
		c.Interval = 15 * time.Second
	}
	if c.Granularity == "" {
		c.Granularity = GranularityTopic
	}
	if c.TopicsExclude == nil {
		c.TopicsExclude = []string{"__.*"}
	}
	if c.StatusWindow == 0 {
		c.StatusWindow = 10
	}
	if c.LagObjective == 0 {
		c.LagObjective = 60
	}
	if c.DLQPatterns == nil {
		c.DLQPatterns = []string{"*.deadletter", "*.dlq", "*-dlq", "*.DLQ", "*.DLT", "*-dlt"}
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 4
	}
	if c.OffsetsTableSize == 0 {
		c.OffsetsTableSize = 60
	}
	if c.FetchGroupsPerReq == 0 {
		c.FetchGroupsPerReq = 10
	}
	if c.StopAfter == 0 {
		c.StopAfter = time.Minute
	}
	if c.ExactTimeLag == nil {
		on := true
		c.ExactTimeLag = &on
	}
	if c.RecordLookups == 0 {
		c.RecordLookups = 2000
	}
}

// exact reports whether exact time lag is on.
func (c *Config) exact() bool { return c.ExactTimeLag == nil || *c.ExactTimeLag }

// Validate checks c and compiles its regexes. Messages name the field with
// its YAML path, for example "lag.interval: must be >= 1s".
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("lag.%s: %s", field, fmt.Sprintf(format, a...)))
	}
	c.checkValues(bad)
	for i, p := range c.DLQPatterns {
		if _, err := path.Match(p, ""); err != nil {
			bad(fmt.Sprintf("dlq_patterns[%d]", i), "invalid glob %q: %v", p, err)
		}
	}
	c.compile(bad)
	return errors.Join(errs...)
}

// checkValues checks the scalar fields.
func (c *Config) checkValues(bad func(field, format string, a ...any)) {
	if c.SamplingStall < time.Second {
		bad("sampling_stall_after", "must be >= 1s, got %s", c.SamplingStall)
	}
	if c.Interval < time.Second {
		bad("interval", "must be >= 1s, got %s", c.Interval)
	}
	if c.StopAfter <= 0 {
		bad("stop_after", "must be > 0, got %s", c.StopAfter)
	}
	if c.Granularity != GranularityTopic && c.Granularity != GranularityPartition {
		bad("granularity", "must be %q or %q, got %q", GranularityTopic, GranularityPartition, c.Granularity)
	}
	for _, lim := range []struct {
		field     string
		got, want int
	}{
		{"status_window", c.StatusWindow, 3},
		{"max_concurrent_requests", c.MaxConcurrent, 1},
		{"offsets_table_size", c.OffsetsTableSize, 2},
		{"fetch_groups_per_request", c.FetchGroupsPerReq, 1},
		{"record_lookups_per_cycle", c.RecordLookups, 1},
	} {
		if lim.got < lim.want {
			bad(lim.field, "must be >= %d, got %d", lim.want, lim.got)
		}
	}
	if c.LagObjective <= 0 {
		bad("lag_objective_seconds", "must be > 0, got %g", c.LagObjective)
	}
	if c.AllowedLag < 0 {
		bad("allowed_lag", "must be >= 0, got %d", c.AllowedLag)
	}
	for i, r := range c.AllowedLagGroups {
		if r.AllowedLag < 0 {
			bad(fmt.Sprintf("allowed_lag_groups[%d].allowed_lag", i), "must be >= 0, got %d", r.AllowedLag)
		}
		if r.Groups == "" {
			bad(fmt.Sprintf("allowed_lag_groups[%d].groups", i), "must be a regex over group ids")
		}
	}
}

// compile compiles the include and exclude regexes, anchored.
func (c *Config) compile(bad func(field, format string, a ...any)) {
	var err error
	for _, rx := range []struct {
		field string
		src   []string
		dst   *[]*regexp.Regexp
	}{
		{"groups_include", c.GroupsInclude, &c.compiled.groupsIn},
		{"groups_exclude", c.GroupsExclude, &c.compiled.groupsEx},
		{"topics_include", c.TopicsInclude, &c.compiled.topicsIn},
		{"topics_exclude", c.TopicsExclude, &c.compiled.topicsEx},
	} {
		if *rx.dst, err = compileAll(rx.src); err != nil {
			bad(rx.field, "%v", err)
		}
	}
	c.compiled.allowed = nil
	for i, r := range c.AllowedLagGroups {
		re, err := regexp.Compile("^(?:" + r.Groups + ")$")
		if err != nil {
			bad(fmt.Sprintf("allowed_lag_groups[%d].groups", i), "invalid regex %q: %v", r.Groups, err)
			continue
		}
		c.compiled.allowed = append(c.compiled.allowed, re)
	}
}

// allowedLag returns the allowed lag of group: the first matching
// allowed_lag_groups rule's, else allowed_lag.
func (c *Config) allowedLag(group string) int64 {
	if len(c.compiled.allowed) == len(c.AllowedLagGroups) {
		for i, re := range c.compiled.allowed {
			if re.MatchString(group) {
				return c.AllowedLagGroups[i].AllowedLag
			}
		}
	}
	return c.AllowedLag
}

func compileAll(src []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(src))
	for i, s := range src {
		re, err := regexp.Compile("^(?:" + s + ")$")
		if err != nil {
			return nil, fmt.Errorf("[%d] %q: %w", i, s, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// wantGroup reports whether group passes the include and exclude regexes.
func (c *Config) wantGroup(group string) bool {
	return selected(group, c.compiled.groupsIn, c.compiled.groupsEx)
}

// wantTopic reports whether topic passes the include and exclude regexes.
func (c *Config) wantTopic(topic string) bool {
	return selected(topic, c.compiled.topicsIn, c.compiled.topicsEx)
}

func selected(s string, in, ex []*regexp.Regexp) bool {
	if len(in) > 0 && !anyMatch(s, in) {
		return false
	}
	return !anyMatch(s, ex)
}

func anyMatch(s string, res []*regexp.Regexp) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
