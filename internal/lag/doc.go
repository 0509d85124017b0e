// Package lag measures consumer groups, dead-letter topics and cluster
// configuration through the Kafka admin API, in the background, and
// publishes each cycle as an immutable Snapshot.
//
// # Model
//
// A Collector runs one cycle every Config.Interval. A cycle lists the start
// and end offsets of every topic once (ListStartOffsets, ListEndOffsets),
// reads metadata and topic configs, lists classic and KIP-848 groups
// (ListGroups by type), describes them (DescribeGroups for classic groups,
// ConsumerGroupDescribe for KIP-848 groups and for any group real Kafka 4.x
// refuses on DescribeGroups with GROUP_ID_NOT_FOUND), and fetches their
// committed offsets with OffsetFetch, batching Config.FetchGroupsPerReq
// groups per request with at most Config.MaxConcurrent requests in flight.
// Committed offsets are group commits (OffsetFetch), never the
// read_committed end offsets that kadm.ListCommittedOffsets returns.
//
// Offset lag of a partition is end - committed, never negative, and end -
// start when the committed offset points below the start offset (deleted
// segments). Empty groups keep reporting lag: a stopped consumer is exactly
// the case that must show. Time lag interpolates a per-partition table of
// (end offset, first time seen) samples, the kafka-lag-exporter method;
// docs/lag.md describes its behaviour on bursts, idle partitions and short
// tables. Status follows Burrow's rules over a sliding window of
// Config.StatusWindow cycles per group partition (OK, WARN, STOP, STALL,
// REWIND; ERR for a group with a STOP, STALL or REWIND partition).
//
// Dead-letter topics are found by Config.DLQPatterns and mapped back to
// their source service and topic. Cluster rules (topic.replication_factor,
// topic.retention, cluster.min_brokers, dlq.retention, dlq.missing,
// catalog.no_consumer) are checked against Expectations.
//
// # Partial failure
//
// Every failed admin request is counted in eventwatch_admin_errors_total
// {request} and listed in Snapshot.Errors, and the cycle goes on with what
// did answer: a group whose offsets could not be fetched keeps its previous
// values, marked Stale with the error; a topic whose offsets could not be
// listed reports End -1 and no lag for that cycle; rules whose inputs are
// missing are skipped, not reported. eventwatch_collector_success
// {collector="lag"} is 1 only for a cycle without any failed request.
//
// # Metrics
//
// The collector registers a custom prometheus.Collector that reads the last
// snapshot (no Kafka call on scrape): eventwatch_consumergroup_lag_records,
// eventwatch_consumergroup_lag_seconds, eventwatch_consumergroup_partition_lag_records
// and _seconds (granularity partition only), eventwatch_consumergroup_status,
// eventwatch_consumergroup_members, eventwatch_consumergroup_info,
// eventwatch_consumergroup_lag_objective_seconds,
// eventwatch_consumergroup_lag_objective_breach_seconds_total, eventwatch_dlq_depth_records,
// eventwatch_dlq_records_total, eventwatch_dlq_new_records,
// eventwatch_dlq_retention_seconds, eventwatch_cluster_brokers and
// eventwatch_cluster_rule_violations; plus eventwatch_collector_success,
// _duration_seconds and _last_success_timestamp_seconds with
// collector="lag", and eventwatch_admin_errors_total.
package lag
