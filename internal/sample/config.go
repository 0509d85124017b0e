package sample

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Start positions for Config.StartFrom (an RFC 3339 timestamp is the third form).
const (
	StartLatest   = "latest"   // records produced after the sampler first started (default)
	StartEarliest = "earliest" // the oldest record still in each partition
)

// DefaultTopicsExclude are the internal and infrastructure topics never
// sampled unless the exclude list is overridden: Kafka's own (`__*`, which
// covers __consumer_offsets and __transaction_state), Schema Registry's
// `_schemas`, Confluent's `_confluent*`, and Kafka Connect's config, offset
// and status topics (connect-configs, connect-cluster-offsets,
// docker-connect-status, ...).
var DefaultTopicsExclude = []string{
	`__.*`,
	`_schemas`,
	`_confluent.*`,
	`(.*-)?connect(-cluster)?-(configs|offsets|status)`,
}

// Config is the sampler's configuration, the `sample:` section of the
// daemon's YAML file. Call SetDefaults before decoding and Validate after.
type Config struct {
	GroupID            string        `yaml:"group_id"`                     // consumer group of the sampler; default "eventwatch"
	TopicsInclude      []string      `yaml:"topics_include"`               // regexes (anchored); a topic is sampled when it matches one; default: all
	TopicsExclude      []string      `yaml:"topics_exclude"`               // regexes (anchored); default DefaultTopicsExclude
	MetadataRefresh    time.Duration `yaml:"metadata_refresh"`             // how often topics are listed, so new topics and partitions are picked up; default 30s, at least 1s
	StartFrom          string        `yaml:"start_from"`                   // latest (default), earliest, or an RFC 3339 timestamp; only for partitions the group never committed
	BudgetPerPartition float64       `yaml:"budget_per_partition"`         // records audited per second per partition before sampling starts; default 100
	MaxQueue           int           `yaml:"max_queue"`                    // records waiting for audit at once; beyond it records are dropped (counted); default 4096
	MaxQueueWait       time.Duration `yaml:"max_queue_wait"`               // how long one poll may wait for room in a full queue before dropping; default 100ms, 0 never waits
	MaxQueueBytes      int64         `yaml:"max_queue_bytes"`              // bytes of records waiting for audit at once; default 64 MiB
	Workers            int           `yaml:"workers"`                      // audit goroutines; default GOMAXPROCS
	MaxSourceServices  int           `yaml:"max_source_services"`          // distinct source_service label values; later ones become "other"; default 200
	MaxPollRecords     int           `yaml:"max_poll_records"`             // records taken from the client per poll; default 10000
	FetchMaxBytes      int32         `yaml:"fetch_max_bytes"`              // bytes per fetch response; default 8 MiB
	FetchPartitionMax  int32         `yaml:"fetch_max_partition_bytes"`    // bytes per partition in a fetch; default 1 MiB
	FetchMaxWait       time.Duration `yaml:"fetch_max_wait"`               // how long a fetch waits at the broker when no record arrives; default 15s (records are returned as soon as they arrive)
	MaxConcurrentFetch int           `yaml:"max_concurrent_fetches"`       // fetches buffered or in flight at once; default 2
	MaxDecompressBytes int           `yaml:"max_decompressed_batch_bytes"` // largest decompressed batch; bigger ones are skipped and counted; default 128 MiB
	CommitInterval     time.Duration `yaml:"commit_interval"`              // how often stored positions are committed to Kafka; default 5s
	InstanceID         string        `yaml:"instance_id"`                  // static group membership (KIP-345) id of this replica; default $EVENTWATCH_INSTANCE_ID, else derived from the host name and data directory (DeriveInstanceID); "none": dynamic membership
	SessionTimeout     time.Duration `yaml:"session_timeout"`              // how long the group waits for a silent member before giving its partitions to others; default 45s
	StayOnShutdown     bool          `yaml:"stay_on_shutdown"`             // with instance_id: a clean shutdown keeps the membership (partitions wait for the restart) instead of leaving; default false
	OnPositionMismatch string        `yaml:"on_position_mismatch"`         // where a stored position beyond the partition's end or below its log start is reset to: start (default: the log start, every record still in the log is audited) or end (skip to the end)

	compiled compiled
}

type compiled struct {
	include, exclude []*regexp.Regexp
	start            kgo.Offset
}

// SetDefaults fills every unset field with its default. It is safe to call
// before decoding YAML into c (decoded values then override the defaults).
func (c *Config) SetDefaults() {
	setIf(&c.GroupID, "eventwatch")
	if c.TopicsExclude == nil {
		c.TopicsExclude = append([]string(nil), DefaultTopicsExclude...)
	}
	setIf(&c.MetadataRefresh, 30*time.Second)
	setIf(&c.StartFrom, StartLatest)
	setIf(&c.BudgetPerPartition, 100)
	setIf(&c.MaxQueue, 4096)
	setIf(&c.MaxQueueBytes, 64<<20)
	setIf(&c.MaxQueueWait, 100*time.Millisecond)
	setIf(&c.Workers, runtime.GOMAXPROCS(0))
	setIf(&c.MaxSourceServices, 200)
	setIf(&c.MaxPollRecords, 10000)
	setIf(&c.FetchMaxBytes, 8<<20)
	setIf(&c.FetchPartitionMax, 1<<20)
	setIf(&c.FetchMaxWait, 15*time.Second)
	setIf(&c.MaxConcurrentFetch, 2)
	setIf(&c.MaxDecompressBytes, 128<<20)
	setIf(&c.CommitInterval, 5*time.Second)
	setIf(&c.InstanceID, os.Getenv(InstanceIDEnv))
	setIf(&c.SessionTimeout, 45*time.Second)
	setIf(&c.OnPositionMismatch, MismatchStart)
}

// Values of sample.on_position_mismatch.
const (
	MismatchStart = "start" // reset to the log start: every record still in the log is audited (default)
	MismatchEnd   = "end"   // reset to the end: records already in the log are skipped (counted as not audited)
)

// InstanceIDEnv is the environment variable sample.instance_id defaults to
// (the Helm chart sets it to the pod name).
const InstanceIDEnv = "EVENTWATCH_INSTANCE_ID"

// instanceID is the static membership id, "" for dynamic membership.
func (c *Config) instanceID() string {
	id := strings.TrimSpace(c.InstanceID)
	if id == "none" {
		return ""
	}
	return id
}

func setIf[T comparable](dst *T, def T) {
	var zero T
	if *dst == zero {
		*dst = def
	}
}

// Validate checks c, compiles its regexes and parses the start position.
// Messages name the field with its YAML path, for example
// "sample.budget_per_partition: must be > 0, got 0".
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("sample.%s: %s", field, fmt.Sprintf(format, a...)))
	}
	if strings.TrimSpace(c.GroupID) == "" {
		bad("group_id", "must not be empty")
	}
	if c.MetadataRefresh < time.Second {
		bad("metadata_refresh", "must be >= 1s, got %s", c.MetadataRefresh)
	}
	if c.FetchMaxWait < 10*time.Millisecond || c.FetchMaxWait > time.Minute {
		bad("fetch_max_wait", "must be between 10ms and 1m, got %s", c.FetchMaxWait)
	}
	if c.CommitInterval < 100*time.Millisecond {
		bad("commit_interval", "must be >= 100ms, got %s", c.CommitInterval)
	}
	if c.SessionTimeout < 6*time.Second || c.SessionTimeout > 30*time.Minute {
		bad("session_timeout", "must be between 6s and 30m (the broker's group.min/max.session.timeout.ms defaults), got %s", c.SessionTimeout)
	}
	if len(c.InstanceID) > 249 {
		bad("instance_id", "must be at most 249 characters, got %d", len(c.InstanceID))
	}
	if c.OnPositionMismatch != MismatchStart && c.OnPositionMismatch != MismatchEnd {
		bad("on_position_mismatch", "must be %q or %q, got %q", MismatchStart, MismatchEnd, c.OnPositionMismatch)
	}
	if c.MaxQueueWait < 0 || c.MaxQueueWait > 10*time.Second {
		bad("max_queue_wait", "must be between 0s and 10s, got %s", c.MaxQueueWait)
	}
	if !(c.BudgetPerPartition > 0) {
		bad("budget_per_partition", "must be > 0, got %g", c.BudgetPerPartition)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"max_queue", int64(c.MaxQueue)}, {"max_queue_bytes", c.MaxQueueBytes},
		{"workers", int64(c.Workers)}, {"max_source_services", int64(c.MaxSourceServices)},
		{"max_poll_records", int64(c.MaxPollRecords)}, {"fetch_max_bytes", int64(c.FetchMaxBytes)},
		{"fetch_max_partition_bytes", int64(c.FetchPartitionMax)},
		{"max_concurrent_fetches", int64(c.MaxConcurrentFetch)},
		{"max_decompressed_batch_bytes", int64(c.MaxDecompressBytes)},
	} {
		if f.v < 1 {
			bad(f.name, "must be >= 1, got %d", f.v)
		}
	}
	if c.FetchPartitionMax > c.FetchMaxBytes && c.FetchMaxBytes > 0 {
		bad("fetch_max_partition_bytes", "must be <= fetch_max_bytes (%d), got %d", c.FetchMaxBytes, c.FetchPartitionMax)
	}
	var err error
	if c.compiled.include, err = compileAll(c.TopicsInclude); err != nil {
		bad("topics_include", "%v", err)
	}
	if c.compiled.exclude, err = compileAll(c.TopicsExclude); err != nil {
		bad("topics_exclude", "%v", err)
	}
	if c.compiled.start, err = parseStart(c.StartFrom); err != nil {
		bad("start_from", "%v", err)
	}
	return errors.Join(errs...)
}

// parseStart turns start_from into the offset franz-go gives a
// never-committed partition. For "latest" that is the log start, which the
// sampler then moves (adjustStart): partitions that existed when it started
// begin at their end offset of that moment, and partitions of topics
// created later keep their first record, so nothing produced while the
// sampler runs is missed.
func parseStart(s string) (kgo.Offset, error) {
	switch s {
	case StartLatest, StartEarliest:
		return kgo.NewOffset().AtStart(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return kgo.Offset{}, fmt.Errorf("must be %q, %q or an RFC 3339 timestamp, got %q", StartLatest, StartEarliest, s)
	}
	return kgo.NewOffset().AfterMilli(t.UnixMilli()), nil
}

// anchored returns each pattern wrapped so it must match the whole name.
func anchored(src []string) []string {
	out := make([]string, len(src))
	for i, s := range src {
		out[i] = "^(?:" + s + ")$"
	}
	return out
}

func compileAll(src []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(src))
	for i, s := range anchored(src) {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("[%d] %q: %w", i, src[i], err)
		}
		out = append(out, re)
	}
	return out, nil
}

// WantTopic reports whether topic passes the include and exclude regexes.
// Validate must have been called.
func (c *Config) WantTopic(topic string) bool {
	if len(c.compiled.include) > 0 && !anyMatch(topic, c.compiled.include) {
		return false
	}
	return !anyMatch(topic, c.compiled.exclude)
}

func anyMatch(s string, res []*regexp.Regexp) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// clientOpts returns the consumer options of the sampler on top of base.
// exact (a ledger) disables autocommit: the sampler then commits stored
// positions itself.
func (c *Config) clientOpts(base []kgo.Opt, exact bool) []kgo.Opt {
	include := anchored(c.TopicsInclude)
	if len(include) == 0 {
		include = []string{".*"}
	}
	minAge := min(c.MetadataRefresh, 5*time.Second)
	opts := append(append([]kgo.Opt(nil), base...),
		kgo.ConsumerGroup(c.GroupID),
		kgo.ConsumeRegex(),
		kgo.ConsumeTopics(include...),
		kgo.ConsumeStartOffset(c.compiled.start),
		kgo.MetadataMaxAge(max(c.MetadataRefresh, clientMetadataMaxAge)), // watchTopics asks for a refresh when topics change
		kgo.MetadataMinAge(minAge),
		kgo.FetchMaxBytes(c.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(c.FetchPartitionMax),
		kgo.FetchMaxWait(c.FetchMaxWait),
		kgo.MaxConcurrentFetches(c.MaxConcurrentFetch),
		kgo.MaxDecompressBatchBytes(c.MaxDecompressBytes),
		kgo.SessionTimeout(c.SessionTimeout),
	)
	if exact {
		opts = append(opts, kgo.DisableAutoCommit())
	} else {
		opts = append(opts, kgo.AutoCommitMarks(), kgo.AutoCommitInterval(c.CommitInterval))
	}
	if id := c.instanceID(); id != "" {
		opts = append(opts, kgo.InstanceID(id))
	}
	if len(c.TopicsExclude) > 0 {
		opts = append(opts, kgo.ConsumeExcludeTopics(anchored(c.TopicsExclude)...))
	}
	return opts
}
