package metrics

// Dead-letter triage and replay (internal/dlq).
var (
	DLQCauseRecords = define(Spec{Name: "eventwatch_dlq_cause_records", Kind: Gauge, Area: "dlq",
		Help:   "Dead letters on a dead-letter topic per cause: normalised error class and the owning service of the original (counted from the topic's log start when eventwatch started; error classes beyond dlq.triage.max_classes per topic count as \"other\").",
		Labels: []string{"topic", "error_class", "service"}})
	DLQTriageRecords = define(Spec{Name: "eventwatch_dlq_triage_records_read_total", Kind: Counter, Area: "dlq",
		Help:   "Dead-letter records the triage reader read, per dead-letter topic.",
		Labels: []string{"topic"}})
	DLQReplayedRecords = define(Spec{Name: "eventwatch_dlq_replayed_records_total", Kind: Counter, Area: "dlq",
		Help:   "Dead letters whose original was sent again by a replay, per dead-letter topic and target topic.",
		Labels: []string{"topic", "target_topic"}})
	DLQReplays = define(Spec{Name: "eventwatch_dlq_replays_total", Kind: Counter, Area: "dlq",
		Help:   "Replays requested, by result: done, failed, refused (bad selection or no original), dry_run.",
		Labels: []string{"result"}})
)

// Poison pills (internal/dlq, on the leader after each lag cycle).
var (
	PoisonPillOffset = define(Spec{Name: "eventwatch_consumer_poison_pill_offset", Kind: Gauge, Area: "lag",
		Help:   "The committed offset of a STALL partition, where the record that blocks the group sits (one series per stalled partition; source_service is the record's producer).",
		Labels: []string{"group", "topic", "partition", "source_service"}})
	PoisonPillRule = define(Spec{Name: "eventwatch_consumer_poison_pill_rule", Kind: Gauge, Area: "lag",
		Help:   "1 for each rule the record blocking a STALL partition breaks (audited with the topic's profile).",
		Labels: []string{"group", "topic", "partition", "rule"}})
)
