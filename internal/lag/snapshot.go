package lag

import (
	"math"

	"strconv"
	"time"

	"github.com/eventwatch/eventwatch/internal/topology"
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
// reports them (internal/topology, shared with the AsyncAPI discovery).
type TopicInfo = topology.Topic

// Topology is the snapshot's cluster shape for discovery: every topic and
// the topics each group reads, without the groups named in own (nil for a
// nil snapshot).
func (s *Snapshot) Topology(own ...string) *topology.Cluster {
	if s == nil {
		return nil
	}
	c := &topology.Cluster{Topics: s.Topics, Groups: make([]topology.GroupTopics, 0, len(s.Groups))}
	for _, g := range s.Groups {
		gt := topology.GroupTopics{Group: g.Group}
		for _, t := range g.Topics {
			gt.Topics = append(gt.Topics, t.Topic)
		}
		c.Groups = append(c.Groups, gt)
	}
	return c.Without(own...)
}

// GroupLag is a consumer group's lag, state and status.
type GroupLag struct {
	Group      string  `json:"group"`
	Protocol   string  `json:"protocol"` // classic or consumer (KIP-848)
	State      string  `json:"state"`    // Stable, Empty, PreparingRebalance, ... as the coordinator says
	Members    int     `json:"members"`
	Status     Status  `json:"status"`                      // OK, WARN or ERR
	Cause      Status  `json:"status_cause"`                // the partition status behind Status (STOP, STALL, REWIND, WARN or OK)
	Why        string  `json:"why" clock:"derived"`         // one sentence explaining Status
	LagRecords int64   `json:"lag_records"`                 // sum over watched topics
	LagSeconds Seconds `json:"lag_seconds" clock:"derived"` // max over watched topics; null when unknown
	// BreachSeconds is the time the group's time lag spent above the
	// objective since eventwatch started: every cycle whose sample is
	// above it adds the time since the previous cycle.
	BreachSeconds float64 `json:"lag_objective_breach_seconds" clock:"derived"`
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
	Complete          bool    `json:"complete"`
	CompleteFraction  float64 `json:"complete_fraction"`
	UnknownPartitions int     `json:"lag_unknown_partitions"` // partitions whose lag is unknown this cycle (end offset not listed): not counted in lag_records
	// DrainSeconds is the longest of the topics' drain times: how long the
	// group needs to read its backlog at the rates of the status window;
	// null when a topic with lag is not draining (or nothing is known).
	DrainSeconds Seconds `json:"drain_seconds"`
	// LostRecords counts the records deleted by retention (or
	// DeleteRecords) before the group read them, since eventwatch started
	// watching: each lost range once.
	LostRecords int64 `json:"lost_records"`
	// TimeToLoss is the shortest time, over the group's partitions, until
	// retention may delete the oldest record the group has not read; null
	// when no waiting record is at risk (or the retention is unknown).
	TimeToLoss Seconds    `json:"time_to_loss_seconds" clock:"derived"`
	Topics     []TopicLag `json:"topics,omitempty"` // per-partition detail only with granularity partition; see Collector.GroupDetail
	Error      string     `json:"error,omitempty"`  // last error describing or fetching this group
	Stale      bool       `json:"stale,omitempty"`  // offsets could not be fetched this cycle; values are from an earlier one

	// The anchors the derived figures are functions of (clock.go):
	// LagSeconds's and TimeToLoss's (a partition's), BreachSeconds's,
	// Why's; frozen is the time a stale group's figures are read at (0:
	// the page's).
	lagClk, ttlClk anchors
	breach         breachClock
	why            whyClock
	frozen         int64
}

// TopicLag is a group's lag on one topic.
type TopicLag struct {
	Topic      string  `json:"topic"`
	LagRecords int64   `json:"lag_records"`
	LagSeconds Seconds `json:"lag_seconds" clock:"derived"`
	Status     Status  `json:"status"`          // worst partition status; UNKNOWN when no partition's lag is known
	Committed  int     `json:"partition_count"` // partitions the group has committed offsets on
	// UnknownPartitions counts partitions whose end offset could not be
	// listed this cycle; their lag is unknown and not in LagRecords.
	UnknownPartitions int `json:"lag_unknown_partitions,omitempty"`
	// LagSecondsSource says how LagSeconds (the largest partition time lag)
	// was measured: "exact" (the timestamp of the record at the committed
	// offset) or "estimated" (interpolated from sampled end offsets); ""
	// when the time lag is unknown or 0 because nothing waits.
	LagSecondsSource string `json:"lag_seconds_source,omitempty"`
	// ExactPartitions and EstimatedPartitions count the partitions with
	// lag whose time lag is exact or estimated.
	ExactPartitions     int `json:"lag_seconds_exact_partitions"`
	EstimatedPartitions int `json:"lag_seconds_estimated_partitions"`
	// ConsumeRate and ProduceRate are the records per second the group
	// consumed and producers appended on the topic's partitions the group
	// reads, over the status window; null until a second sample.
	ConsumeRate Rate `json:"consume_records_per_second"`
	ProduceRate Rate `json:"produce_records_per_second"`
	// DrainSeconds is LagRecords / (ConsumeRate - ProduceRate): when the
	// backlog will be read at these rates; null when the group is not
	// draining (it consumes no faster than records arrive) or has no lag
	// (then it is 0).
	DrainSeconds Seconds `json:"drain_seconds"`
	LostRecords  int64   `json:"lost_records"`                         // records deleted before the group read them, each lost range once, since eventwatch started
	TimeToLoss   Seconds `json:"time_to_loss_seconds" clock:"derived"` // shortest time until retention may delete an unread record; null when none is at risk
	// Findings lists, for each status other than OK and UNKNOWN, how many
	// partitions have it and the partition where data has waited longest.
	Findings   []StatusFinding `json:"findings,omitempty"`
	Partitions []PartitionLag  `json:"partitions,omitempty"`

	lagClk, ttlClk anchors // the partitions' whose LagSeconds and TimeToLoss are the topic's
}

// StatusFinding is one non-OK status of a group on a topic: how many partitions
// have it and the worst of them (the one whose data has waited longest).
type StatusFinding struct {
	Status     Status  `json:"status"`
	Reason     string  `json:"reason"`     // the worst partition's reason, e.g. "stalled", "falling behind"
	Partitions int     `json:"partitions"` // partitions in this status
	Partition  int32   `json:"partition"`  // the worst one
	Committed  int64   `json:"committed"`  // its committed offset: the record the group waits on
	Waiting    Seconds `json:"waiting_seconds" clock:"derived"`

	clk anchors // the worst partition's
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
	LagSeconds Seconds `json:"lag_seconds" clock:"derived"`
	Status     Status  `json:"status"`
	Owned      bool    `json:"owned"` // a member is assigned this partition
	// LagSecondsSource is "exact" when LagSeconds is now minus the
	// timestamp of the record at the committed offset, "estimated" when it
	// is interpolated from sampled end offsets (the record could not be
	// read: deleted, not permitted, compacted away, or over this cycle's
	// lookup budget); "" without lag.
	LagSecondsSource string `json:"lag_seconds_source,omitempty"`
	Start            int64  `json:"log_start"` // log-start offset (-1 when not listed)
	// Reason explains Status in words, e.g. "caught up", "falling behind",
	// "waiting its turn", "stalled", "stopped".
	Reason string `json:"reason"`
	// WaitingSeconds is how long data has waited on this partition while
	// its committed offset did not move (STOP and STALL are judged on it
	// against lag.stop_after); 0 when nothing waits or it just moved.
	WaitingSeconds Seconds `json:"waiting_seconds" clock:"derived"`
	TimeToLoss     Seconds `json:"time_to_loss_seconds" clock:"derived"` // time until retention may delete the record at the committed offset; null when unknown or not at risk
	// LastCommit is the start of the cycle in which eventwatch last saw
	// the committed offset change (commit recency, at cycle resolution);
	// omitted when it has not changed since eventwatch started watching.
	LastCommit time.Time `json:"last_commit,omitzero"`

	clk anchors // what LagSeconds, WaitingSeconds and TimeToLoss are functions of
}

// Seconds is a duration in seconds that encodes NaN (unknown) as JSON null.
type Seconds float64

// Known reports whether s is a number.
func (s Seconds) Known() bool { return !math.IsNaN(float64(s)) }

// MarshalJSON writes null for NaN and a rounded number otherwise.
func (s Seconds) MarshalJSON() ([]byte, error) { return s.appendJSON(nil), nil }

// appendJSON appends what MarshalJSON returns.
func (s Seconds) appendJSON(b []byte) []byte {
	if !s.Known() {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, math.Round(float64(s)*1000)/1000, 'f', -1, 64)
}

// RiskHorizon is the time to loss under which a group's unread records
// count as at risk in the weekly report (the default threshold of
// EventwatchConsumerGroupDataLossImminent).
const RiskHorizon = time.Hour

// Rate is a number of records per second that encodes NaN (unknown) as
// JSON null.
type Rate float64

// Known reports whether r is a number.
func (r Rate) Known() bool { return !math.IsNaN(float64(r)) }

// MarshalJSON writes null for NaN and a rounded number otherwise.
func (r Rate) MarshalJSON() ([]byte, error) { return Seconds(r).MarshalJSON() }

// Stalled returns the partitions of g in status STALL (lag.Status.Stalled),
// topic by topic; it needs per-partition detail (Collector.GroupDetail).
func (g *GroupLag) Stalled() []StalledPartition {
	var out []StalledPartition
	for _, t := range g.Topics {
		for _, p := range t.Partitions {
			if p.Status.Stalled() {
				out = append(out, StalledPartition{Topic: t.Topic, Partition: p.Partition, Committed: p.Committed, End: p.End})
			}
		}
	}
	return out
}

// StalledPartition is a partition in status STALL: the record at Committed
// is the one the group's member does not get past.
type StalledPartition struct {
	Topic     string
	Partition int32
	Committed int64
	End       int64
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
