package metrics

// Sampling and audit metrics (owned by the sampler and the audit engine).
var (
	RecordsObserved = define(Spec{Name: "eventwatch_records_observed_total", Kind: Counter, Area: "sampler",
		Help:   "Records produced to a topic while eventwatch watched it, counted from offsets (whether or not they were audited).",
		Labels: []string{"topic"}})
	RecordsChecked = define(Spec{Name: "eventwatch_records_checked_total", Kind: Counter, Area: "sampler",
		Help:   "Records read and audited against the profile (the sample size behind compliance rates).",
		Labels: []string{"topic"}})
	RecordsCompliant = define(Spec{Name: "eventwatch_records_compliant_total", Kind: Counter, Area: "audit",
		Help:   "Audited records that broke no error-severity rule; compliance = compliant / checked.",
		Labels: []string{"topic"}})
	Violations = define(Spec{Name: "eventwatch_violations_total", Kind: Counter, Area: "audit",
		Help:   "Rule violations found on audited records (transport kafka) and on messages of probed WebSocket endpoints (transport websocket: topic is the endpoint path, source_service the target's service), by rule, topic, source service, severity and transport.",
		Labels: []string{"rule", "topic", "source_service", "severity", "transport"}})
	EventSize = define(Spec{Name: "eventwatch_event_size_bytes", Kind: Histogram, Area: "audit",
		Help:    "Serialized size of audited record values.",
		Labels:  []string{"topic"},
		Buckets: []float64{256, 512, 1024, 2048, 4096, 8192, 16384, 65536, 262144, 1048576}})
	RecordsSkipped = define(Spec{Name: "eventwatch_sampler_skipped_records_total", Kind: Counter, Area: "sampler",
		Help:   "Records read but not audited because the partition's audit budget was spent (sampled out).",
		Labels: []string{"topic"}})
	SamplerDropped = define(Spec{Name: "eventwatch_sampler_dropped_records_total", Kind: Counter, Area: "sampler",
		Help:   "Records that could not be audited, by reason (queue_full, decompress_too_large, audit_panic).",
		Labels: []string{"reason"}})
	SamplerLag = define(Spec{Name: "eventwatch_sampler_lag_records", Kind: Gauge, Area: "sampler",
		Help:   "How far eventwatch's own sampling consumer is behind the end of each topic.",
		Labels: []string{"topic"}})
	SamplerPartitions = define(Spec{Name: "eventwatch_sampler_assigned_partitions", Kind: Gauge, Area: "sampler",
		Help: "Partitions currently assigned to this replica's sampling consumer."})
	SamplerTopics = define(Spec{Name: "eventwatch_sampler_topics", Kind: Gauge, Area: "sampler",
		Help: "Topics matched by the include/exclude filters and being sampled."})
)

// Sampler health metrics beyond the counts above.
var (
	SamplerErrors = define(Spec{Name: "eventwatch_sampler_errors_total", Kind: Counter, Area: "sampler",
		Help:   "Errors met by the sampling consumer, by operation (connect: dial, TLS or SASL; poll: fetch or group errors; commit: offset commits; sink: a sink panicked).",
		Labels: []string{"op"}})
	SamplerRebalances = define(Spec{Name: "eventwatch_sampler_rebalances_total", Kind: Counter, Area: "sampler",
		Help:   "Partition assignment changes of the sampling consumer, by event (assigned, revoked, lost).",
		Labels: []string{"event"}})
	SamplerPaused = define(Spec{Name: "eventwatch_sampler_paused", Kind: Gauge, Area: "sampler",
		Help: "1 while the sampler has paused fetching because the report buffer is full (the store is unavailable or too slow); nothing is dropped, the sampler falls behind."})
	SamplerUnaudited = define(Spec{Name: "eventwatch_sampler_unaudited_records_total", Kind: Counter, Area: "sampler",
		Help:   "Records eventwatch will never audit because it did not read them, by reason: history (produced before eventwatch first started watching, skipped by sample.start_from; counted once, at that start), beyond_end or below_start (a stored position did not match the log and was reset past them).",
		Labels: []string{"reason"}})
	SamplerPositionResets = define(Spec{Name: "eventwatch_sampler_position_resets_total", Kind: Counter, Area: "sampler",
		Help:   "Stored positions that did not match the partition's log and were reset (sample.on_position_mismatch), by reason (beyond_end: the topic was recreated or the cluster replaced; below_start: retention deleted records before they were read).",
		Labels: []string{"reason"}})
	SamplerQueued = define(Spec{Name: "eventwatch_sampler_queued_records", Kind: Gauge, Area: "sampler",
		Help: "Records read and waiting for an audit worker (bounded by sample.max_queue)."})
)
