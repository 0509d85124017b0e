// Package lag measures consumer groups, dead-letter topics and cluster
// configuration through the Kafka admin API, in the background, and
// publishes each cycle as an immutable Snapshot.
//
// # Model
//
// A Collector runs one cycle every Config.Interval. A cycle reads the
// cluster's metadata once, lists the start and end offsets of every
// partition it names (one ListOffsets request each, sharded per leader),
// reads topic configs, lists classic and KIP-848 groups
// (ListGroups by type), describes them (DescribeGroups for classic groups,
// ConsumerGroupDescribe for KIP-848 groups and for any group real Kafka 4.x
// refuses on DescribeGroups with GROUP_ID_NOT_FOUND), and fetches their
// committed offsets with OffsetFetch, batching Config.FetchGroupsPerReq
// groups per request with at most Config.MaxConcurrent requests in flight
// (one v8–v9 request per coordinator, decoded straight into offsets:
// offsetfetch.go).
// Committed offsets are group commits (OffsetFetch), never the
// read_committed end offsets that kadm.ListCommittedOffsets returns.
//
// Offset lag of a partition is end - committed, never negative, and end -
// start when the committed offset points below the start offset (deleted
// segments). Empty groups keep reporting lag: a stopped consumer is exactly
// the case that must show. Time lag is exact where it can be: now minus the
// timestamp of the record at the committed offset, read with one bounded
// Fetch per leader broker and cached per (topic, partition, offset)
// (records.go, WithRecordClient), or taken without a request from the
// records this replica's sampler just read (seen.go, WithSampledTimes);
// elsewhere it is estimated from a
// per-partition table of (end offset, time seen) samples and marked so.
// Status is judged from broker evidence (window.go): data waiting, how long
// the oldest waiting record has waited without the offset moving (against
// Config.StopAfter), ownership, and whether the lag grew over the window —
// OK, WARN (falling behind), STALL, STOP, REWIND; ERR for a group with a
// STOP, STALL or REWIND partition. Status.Stalled is the predicate for
// code that acts on stalled partitions. Each group and topic also reports
// consumption and production rates and the time to drain, records lost to
// retention (each lost range once) and the time until retention deletes
// the oldest unread record. eventwatch's own groups (Expectations.OwnGroups)
// are left out unless Config.ShowOwnGroups.
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
// The series read from a snapshot are encoded once per cycle, when the
// snapshot is published, and served by MetricsHandler after the registry's
// own (no Kafka call and no prometheus.Metric per series on scrape); New
// claims their names on the registry with a collector that describes them
// and collects nothing, so nothing else can register them twice. The
// partition series come only with granularity partition, the collector_*
// series with collector="lag"; eventwatch_lag_snapshot_age_seconds is +Inf
// until the first cycle ends:
//
//	eventwatch_admin_errors_total{request}                                  counter
//	eventwatch_time_lag_records_total{source}                               counter
//	eventwatch_cluster_brokers                                              gauge
//	eventwatch_cluster_rule_violations{rule,resource,severity}              gauge
//	eventwatch_collector_duration_seconds{collector}                        gauge
//	eventwatch_collector_last_success_timestamp_seconds{collector}          gauge
//	eventwatch_collector_success{collector}                                 gauge
//	eventwatch_consumergroup_consumed_records_per_second{group,topic}       gauge
//	eventwatch_consumergroup_drain_seconds{group,topic}                     gauge
//	eventwatch_consumergroup_info{group,state,protocol}                     gauge
//	eventwatch_consumergroup_lag_objective_breach_seconds_total{group}      counter
//	eventwatch_consumergroup_lag_objective_seconds                          gauge
//	eventwatch_consumergroup_lag_records{group,topic}                       gauge
//	eventwatch_consumergroup_lag_seconds{group,topic}                       gauge
//	eventwatch_consumergroup_lost_records_total{group,topic}                counter
//	eventwatch_consumergroup_members{group}                                 gauge
//	eventwatch_consumergroup_partition_lag_records{group,topic,partition}   gauge
//	eventwatch_consumergroup_partition_lag_seconds{group,topic,partition}   gauge
//	eventwatch_consumergroup_produced_records_per_second{group,topic}       gauge
//	eventwatch_consumergroup_status{group,status}                           gauge
//	eventwatch_consumergroup_status_partitions{group,topic,status}          gauge
//	eventwatch_consumergroup_time_lag_exact_ratio{group,topic}              gauge
//	eventwatch_consumergroup_time_to_loss_seconds{group,topic}              gauge
//	eventwatch_consumergroup_waiting_seconds{group,topic,status,partition}  gauge
//	eventwatch_dlq_depth_records{topic,source_service}                      gauge
//	eventwatch_dlq_new_records{topic,source_service}                        gauge
//	eventwatch_dlq_records_total{topic,source_service}                      counter
//	eventwatch_dlq_retention_seconds{topic}                                 gauge
//	eventwatch_lag_snapshot_age_seconds                                     gauge
//	eventwatch_sampling_partitions{topic}                                   gauge
//	eventwatch_sampling_position_lag_records{topic}                         gauge
//	eventwatch_sampling_unaudited_partitions{topic}                         gauge
//
// # Sampler coverage
//
// With Expectations.SamplerGroup set (the daemon sets eventwatch's own
// sampler group), every cycle also describes that group and fetches its
// commits, and compares them with the partitions and end offsets of the
// sampled topics (Snapshot.Coverage): partitions no member is assigned —
// a replica that died and whose static-membership session has not expired,
// or no replica at all — and how far the stored positions (the sampler
// commits only positions already in the report store) are behind. This
// comes from the admin API, not from any member's own view, so it shows
// exactly what a dead replica cannot report.
package lag
