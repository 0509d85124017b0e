package lag

import (
	"math"
	"strconv"
	"time"
)

// Snapshot is one immutable view of the cluster, produced by a collection
// cycle. Nothing in it is modified after it is published; readers may keep
// it as long as they like.
type Snapshot struct {
	Time        time.Time     `json:"time"`         // when the cycle started
	Cycle       int64         `json:"cycle"`        // cycle number since start, from 1
	Duration    time.Duration `json:"duration_ns"`  // how long the cycle took
	Success     bool          `json:"success"`      // every admin request of the cycle succeeded
	LastSuccess time.Time     `json:"last_success"` // start of the last fully successful cycle (zero if none)
	Errors      []string      `json:"errors,omitempty"`
	Brokers     int           `json:"brokers"` // brokers in the cluster metadata
	Objective   float64       `json:"lag_objective_seconds"`
	Window      int           `json:"status_window"` // cycles in the status window
	Groups      []GroupLag    `json:"groups"`        // sorted by group id
	DLQs        []DLQ         `json:"dlqs"`          // sorted by topic
	Violations  []Violation   `json:"violations"`    // sorted by rule, then resource
	Topics      []TopicInfo   `json:"topics"`        // every topic of the cluster, sorted by name
	Coverage    *Coverage     `json:"coverage"`      // how completely the sampler's group reads the sampled topics; nil when not measured

	byGroup map[string]int
}

// Group returns the named group and whether it is in the snapshot.
func (s *Snapshot) Group(name string) (GroupLag, bool) {
	if s == nil {
		return GroupLag{}, false
	}
	i, ok := s.byGroup[name]
	if !ok {
		return GroupLag{}, false
	}
	return s.Groups[i], true
}

// TopicInfo is a topic's layout and configuration as the admin API
// reports them (the AsyncAPI discovery's Kafka channel bindings).
type TopicInfo struct {
	Topic         string `json:"topic"`
	Partitions    int    `json:"partitions"`
	Replicas      int    `json:"replicas"`                 // smallest replica count over the partitions; 0 when unknown
	RetentionMS   int64  `json:"retention_ms"`             // retention.ms; -1 infinite; 0 when unknown
	CleanupPolicy string `json:"cleanup_policy,omitempty"` // cleanup.policy, e.g. "delete", "compact" or "compact,delete"
}

// GroupLag is a consumer group's lag, state and status.
type GroupLag struct {
	Group      string  `json:"group"`
	Protocol   string  `json:"protocol"` // classic or consumer (KIP-848)
	State      string  `json:"state"`    // Stable, Empty, PreparingRebalance, ... as the coordinator says
	Members    int     `json:"members"`
	Status     Status  `json:"status"`       // OK, WARN or ERR
	Cause      Status  `json:"status_cause"` // the partition status behind Status (STOP, STALL, REWIND, WARN or OK)
	Why        string  `json:"why"`          // one sentence explaining Status
	LagRecords int64   `json:"lag_records"`  // sum over watched topics
	LagSeconds Seconds `json:"lag_seconds"`  // max over watched topics; null when unknown
	// BreachSeconds is the time the group's time lag spent above the
	// objective since eventwatch started: every cycle whose sample is
	// above it adds the time since the previous cycle.
	BreachSeconds float64 `json:"lag_objective_breach_seconds"`
	// AllowedLag is the lag (records per partition) the group may keep
	// without a finding: lag.allowed_lag or its lag.allowed_lag_groups rule.
	AllowedLag int64 `json:"allowed_lag"`
	// MaxLag is the partition with the largest known lag (Burrow's maxlag);
	// nil when no partition's lag is known.
	MaxLag *MaxLag `json:"max_lag"`
	// Complete is true when every partition was sampled over the whole
	// status window and its lag is known now; CompleteFraction is the share
	// of such partitions (Burrow's complete). An incomplete group's status
	// rests on fewer samples than the window.
	Complete          bool       `json:"complete"`
	CompleteFraction  float64    `json:"complete_fraction"`
	UnknownPartitions int        `json:"lag_unknown_partitions"` // partitions whose lag is unknown this cycle (end offset not listed): not counted in lag_records
	Topics            []TopicLag `json:"topics,omitempty"`       // per-partition detail only with granularity partition; see Collector.GroupDetail
	Error             string     `json:"error,omitempty"`        // last error describing or fetching this group
	Stale             bool       `json:"stale,omitempty"`        // offsets could not be fetched this cycle; values are from an earlier one
}

// TopicLag is a group's lag on one topic.
type TopicLag struct {
	Topic      string  `json:"topic"`
	LagRecords int64   `json:"lag_records"`
	LagSeconds Seconds `json:"lag_seconds"`
	Status     Status  `json:"status"`          // worst partition status; UNKNOWN when no partition's lag is known
	Committed  int     `json:"partition_count"` // partitions the group has committed offsets on
	// UnknownPartitions counts partitions whose end offset could not be
	// listed this cycle; their lag is unknown and not in LagRecords.
	UnknownPartitions int            `json:"lag_unknown_partitions,omitempty"`
	Partitions        []PartitionLag `json:"partitions,omitempty"`
}

// MaxLag is the partition of a group with the largest lag, with its topic.
type MaxLag struct {
	Topic string `json:"topic"`
	PartitionLag
}

// PartitionLag is a group's lag on one partition.
type PartitionLag struct {
	Partition  int32   `json:"partition"`
	Committed  int64   `json:"committed"`   // next offset the group will read
	End        int64   `json:"end"`         // high watermark (-1 when it could not be listed)
	LagRecords int64   `json:"lag_records"` // never negative; 0 when unknown
	LagKnown   bool    `json:"lag_known"`   // the end offset was listed this cycle; false: lag unknown (status UNKNOWN)
	LagSeconds Seconds `json:"lag_seconds"`
	Status     Status  `json:"status"`
	Owned      bool    `json:"owned"` // a member is assigned this partition
	// LastCommit is the start of the cycle in which eventwatch last saw
	// the committed offset change (commit recency, at cycle resolution);
	// omitted when it has not changed since eventwatch started watching.
	LastCommit time.Time `json:"last_commit,omitzero"`
}

// Seconds is a duration in seconds that encodes NaN (unknown) as JSON null.
type Seconds float64

// Known reports whether s is a number.
func (s Seconds) Known() bool { return !math.IsNaN(float64(s)) }

// MarshalJSON writes null for NaN and a rounded number otherwise.
func (s Seconds) MarshalJSON() ([]byte, error) {
	if !s.Known() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, math.Round(float64(s)*1000)/1000, 'f', -1, 64), nil
}

// DLQ is a dead-letter topic and how much it holds and grows.
type DLQ struct {
	Topic            string  `json:"topic"`
	SourceService    string  `json:"source_service"`         // service the DLQ belongs to
	SourceTopic      string  `json:"source_topic,omitempty"` // topic it is the DLQ of, when one exists
	DepthRecords     int64   `json:"depth_records"`          // end - start over partitions
	Records          int64   `json:"records"`                // end offsets summed: records ever written
	NewRecords       int64   `json:"new_records"`            // records written during the status window
	RetentionSeconds float64 `json:"retention_seconds"`      // -1 infinite; 0 when unknown
}

// Violation is one active cluster-rule violation.
type Violation struct {
	Rule     string `json:"rule"`     // e.g. topic.replication_factor
	Resource string `json:"resource"` // topic, group@topic, service or "cluster"
	Severity string `json:"severity"` // error or warning
	Message  string `json:"message"`
}
