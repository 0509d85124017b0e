package event

// Cluster rule ids: the one place they are spelled. The lag collector
// (internal/lag) reports violations under these ids and the daemon reads
// each one's severity from the profile; ClusterRules lists them.
const (
	RuleTopicReplicationFactor = "topic.replication_factor" // a topic has fewer replicas than the profile's minimum
	RuleTopicRetention         = "topic.retention"          // a topic keeps data for less than the profile's minimum
	RuleClusterMinBrokers      = "cluster.min_brokers"      // the cluster has fewer brokers than the profile's minimum
	RuleDLQRetention           = "dlq.retention"            // a dead-letter topic keeps data for less than the DLQ retention
	RuleDLQMissing             = "dlq.missing"              // a producing service has no dead-letter topic
	RuleCatalogNoConsumer      = "catalog.no_consumer"      // an expected consumer group is not consuming its topic
	RuleConsumerNotIdempotent  = "consumer.not_idempotent"  // a redelivered input produced duplicate downstream events
)

// clusterRules are evaluated outside the engine (the lag collector reads
// topic configs, brokers and groups through the admin API) and listed here
// so the catalogue, profiles and waivers know them.
var clusterRules = []RuleInfo{
	{ID: RuleTopicReplicationFactor, Severity: SeverityError, Scope: ScopeCluster,
		Summary:  "a topic's replication factor is below the profile's minimum",
		Standard: "AuthorWorks: Kafka Configuration, Replication Factor 3 for production topics"},
	{ID: RuleTopicRetention, Severity: SeverityWarning, Scope: ScopeCluster,
		Summary:  "a topic's retention.ms is below the profile's minimum retention",
		Standard: "AuthorWorks: Kafka Configuration, Retention configurable per topic, default 7 days"},
	{ID: RuleClusterMinBrokers, Severity: SeverityError, Scope: ScopeCluster,
		Summary:  "the cluster has fewer brokers than the profile's minimum",
		Standard: "AuthorWorks: Kafka Configuration, Minimum of 3 brokers for fault tolerance"},
	{ID: RuleDLQRetention, Severity: SeverityWarning, Scope: ScopeCluster,
		Summary:  "a dead-letter topic keeps records for less than the profile's DLQ retention",
		Standard: "AuthorWorks: Dead Letter Handling 4, retention period of 30 days for dead letter topics"},
	{ID: RuleDLQMissing, Severity: SeverityWarning, Scope: ScopeCluster,
		Summary:  "a producing service has no dead-letter topic",
		Standard: "HuleEdu 030 §5.2 (DLQ strategy for persistent failures); AuthorWorks: Dead Letter Handling 1, each service maintains service.deadletter"},
	{ID: RuleCatalogNoConsumer, Severity: SeverityWarning, Scope: ScopeCluster,
		Summary:  "an expected consumer group of a catalogued event type is not consuming its topic",
		Standard: "AuthorWorks: Event Types Registry 4, expected consumers"},
	{ID: RuleConsumerNotIdempotent, Severity: SeverityError, Scope: ScopeCluster,
		Summary:  "a consumer group's service emitted duplicate downstream events for an input delivered twice (a producer duplicate or a rewind)",
		Standard: "HuleEdu 030 §5.1 (consumers MUST be idempotent); AuthorWorks: Consumer Responsibilities 2 (handle duplicate events idempotently)"},
}
