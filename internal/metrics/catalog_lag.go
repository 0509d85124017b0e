package metrics

// Consumer lag, group status, dead-letter topics and cluster rules (owned by
// internal/lag). Every one of these but the snapshot age is written from
// lag's last snapshot, encoded once per cycle: a scrape never calls Kafka.
var (
	GroupLagRecords = define(Spec{Name: "eventwatch_consumergroup_lag_records", Kind: Gauge, Area: "lag",
		Help:   "Records a consumer group still has to read on a topic (sum over partitions of end offset minus committed offset, never negative).",
		Labels: []string{"group", "topic"}})
	GroupPartitionLagRecords = define(Spec{Name: "eventwatch_consumergroup_partition_lag_records", Kind: Gauge, Area: "lag",
		Help:   "Records a consumer group still has to read on one partition (only with lag.granularity: partition).",
		Labels: []string{"group", "topic", "partition"}})
	GroupLagSeconds = define(Spec{Name: "eventwatch_consumergroup_lag_seconds", Kind: Gauge, Area: "lag",
		Help:   "How far behind in time a consumer group is on a topic: the largest partition time lag, now minus the timestamp of the record at the committed offset (exact), or interpolated from sampled end offsets where that record cannot be read (eventwatch_consumergroup_time_lag_exact_ratio).",
		Labels: []string{"group", "topic"}})
	GroupPartitionLagSeconds = define(Spec{Name: "eventwatch_consumergroup_partition_lag_seconds", Kind: Gauge, Area: "lag",
		Help:   "Time lag of a consumer group on one partition (only with lag.granularity: partition).",
		Labels: []string{"group", "topic", "partition"}})
	GroupStatusPartitions = define(Spec{Name: "eventwatch_consumergroup_status_partitions", Kind: Gauge, Area: "lag",
		Help:   "Partitions of a consumer group on a topic in each status other than OK and UNKNOWN: STOP (no owner, no progress while data waited longer than lag.stop_after), STALL (owned, no progress, its member advances nothing), WARN (falling behind, or waiting its turn), REWIND. Absent for a status no partition has.",
		Labels: []string{"group", "topic", "status"}})
	GroupWaitingSeconds = define(Spec{Name: "eventwatch_consumergroup_waiting_seconds", Kind: Gauge, Area: "lag",
		Help:   "For each consumer group, topic and status other than OK and UNKNOWN, the partition (label) where data has waited longest and how long: without the committed offset moving for STOP and STALL, the age of the oldest waiting record for WARN and REWIND. One series per group, topic and status.",
		Labels: []string{"group", "topic", "status", "partition"}})
	GroupDrainSeconds = define(Spec{Name: "eventwatch_consumergroup_drain_seconds", Kind: Gauge, Area: "lag",
		Help:   "Estimated seconds until a consumer group has read its backlog on a topic, at the consumption and production rates of the status window; 0 without lag; absent when the group is not draining (it consumes no faster than records arrive).",
		Labels: []string{"group", "topic"}})
	GroupConsumeRate = define(Spec{Name: "eventwatch_consumergroup_consumed_records_per_second", Kind: Gauge, Area: "lag",
		Help:   "Records per second a consumer group consumed (committed offsets advanced) on a topic over the status window.",
		Labels: []string{"group", "topic"}})
	GroupProduceRate = define(Spec{Name: "eventwatch_consumergroup_produced_records_per_second", Kind: Gauge, Area: "lag",
		Help:   "Records per second producers appended to the partitions of a topic a consumer group reads, over the status window.",
		Labels: []string{"group", "topic"}})
	GroupLostRecords = define(Spec{Name: "eventwatch_consumergroup_lost_records_total", Kind: Counter, Area: "lag",
		Help:   "Records deleted by retention (or DeleteRecords) before a consumer group read them (its committed offset fell below the log-start offset), each lost range counted once, since this eventwatch leader started.",
		Labels: []string{"group", "topic"}})
	GroupTimeToLoss = define(Spec{Name: "eventwatch_consumergroup_time_to_loss_seconds", Kind: Gauge, Area: "lag",
		Help:   "Seconds until retention may delete the oldest record a consumer group has not read on a topic (shortest over partitions; from retention.ms and the record's timestamp, and retention.bytes and the partition size). Absent when nothing waits or no retention applies.",
		Labels: []string{"group", "topic"}})
	GroupExactPartitions = define(Spec{Name: "eventwatch_consumergroup_time_lag_exact_ratio", Kind: Gauge, Area: "lag",
		Help:   "Share of a consumer group's partitions with lag on a topic whose time lag is exact (the timestamp of the record at the committed offset) rather than estimated from sampled end offsets.",
		Labels: []string{"group", "topic"}})
	GroupStatus = define(Spec{Name: "eventwatch_consumergroup_status", Kind: Gauge, Area: "lag",
		Help:   "1 for the group's current status over the sliding window (OK, WARN, ERR, STOP, STALL, REWIND, UNKNOWN when no partition's lag could be listed), 0 for the others.",
		Labels: []string{"group", "status"}})
	GroupMembers = define(Spec{Name: "eventwatch_consumergroup_members", Kind: Gauge, Area: "lag",
		Help:   "Members currently in the consumer group (0 for an empty group that still has committed offsets).",
		Labels: []string{"group"}})
	GroupInfo = define(Spec{Name: "eventwatch_consumergroup_info", Kind: Gauge, Area: "lag",
		Help:   "Always 1; labels carry the group's state and protocol (classic or consumer, KIP-848).",
		Labels: []string{"group", "state", "protocol"}})
	LagObjective = define(Spec{Name: "eventwatch_consumergroup_lag_objective_seconds", Kind: Gauge, Area: "lag",
		Help: "Configured time-lag objective (lag.lag_objective_seconds) that alerts and reports compare lag_seconds with."})
	LagObjectiveBreach = define(Spec{Name: "eventwatch_consumergroup_lag_objective_breach_seconds_total", Kind: Counter, Area: "lag",
		Help:   "Time a consumer group's time lag spent above lag_objective_seconds (whole cycles whose sample was above), since eventwatch started.",
		Labels: []string{"group"}})
	LagRecordStamps = define(Spec{Name: "eventwatch_time_lag_records_total", Kind: Counter, Area: "lag",
		Help:   "Records at committed offsets whose timestamp exact time lag took, by source: sampled (read by this replica's sampler, no request) or fetched (a Fetch lookup).",
		Labels: []string{"source"}})
	LagSnapshotAge = define(Spec{Name: "eventwatch_lag_snapshot_age_seconds", Kind: Gauge, Area: "lag",
		Help: "Seconds since the start of the lag cycle whose snapshot the lag series come from; +Inf before the first cycle has ended (no lag series yet, which is not \"no lag\")."})
	DLQDepth = define(Spec{Name: "eventwatch_dlq_depth_records", Kind: Gauge, Area: "dlq",
		Help:   "Records currently held by a dead-letter topic (end offset minus start offset).",
		Labels: []string{"topic", "source_service"}})
	DLQRecords = define(Spec{Name: "eventwatch_dlq_records_total", Kind: Counter, Area: "dlq",
		Help:   "Records ever written to a dead-letter topic (its end offsets); rate() gives the growth.",
		Labels: []string{"topic", "source_service"}})
	DLQNewRecords = define(Spec{Name: "eventwatch_dlq_new_records", Kind: Gauge, Area: "dlq",
		Help:   "Records written to a dead-letter topic during the status window (lag.status_window cycles).",
		Labels: []string{"topic", "source_service"}})
	DLQRetention = define(Spec{Name: "eventwatch_dlq_retention_seconds", Kind: Gauge, Area: "dlq",
		Help:   "retention.ms of a dead-letter topic in seconds (-1 for infinite).",
		Labels: []string{"topic"}})
	ClusterBrokers = define(Spec{Name: "eventwatch_cluster_brokers", Kind: Gauge, Area: "cluster",
		Help: "Brokers the cluster metadata lists."})
	ClusterRuleViolations = define(Spec{Name: "eventwatch_cluster_rule_violations", Kind: Gauge, Area: "cluster",
		Help:   "1 per active cluster-rule violation found through the admin API (topic.replication_factor, topic.retention, cluster.min_brokers, dlq.retention, dlq.missing, catalog.no_consumer).",
		Labels: []string{"rule", "resource", "severity"}})
	SamplingPartitions = define(Spec{Name: "eventwatch_sampling_partitions", Kind: Gauge, Area: "cluster",
		Help:   "Partitions of each topic eventwatch samples (its include/exclude filters), from the admin API (leader only).",
		Labels: []string{"topic"}})
	SamplingUnaudited = define(Spec{Name: "eventwatch_sampling_unaudited_partitions", Kind: Gauge, Area: "cluster",
		Help:   "Partitions of sampled topics no eventwatch replica audits now, from the admin API (not any member's own view): not assigned to a member of the sampler group, or assigned but its stored position has not moved for lag.sampling_stall_after while records arrived (a replica killed whose session has not expired, a paused or stuck replica).",
		Labels: []string{"topic"}})
	SamplingPositionLag = define(Spec{Name: "eventwatch_sampling_position_lag_records", Kind: Gauge, Area: "cluster",
		Help:   "Records between the sampler group's stored positions (its commits are made only of positions in the report store) and the end offsets, per sampled topic: how far the report is behind.",
		Labels: []string{"topic"}})
)
