package metrics

// Report store metrics (owned by the report aggregator).
var (
	StoreFlushes = define(Spec{Name: "eventwatch_store_flushes_total", Kind: Counter, Area: "store",
		Help:   "Flushes of in-memory report aggregates to the store, by result (ok or error).",
		Labels: []string{"result"}})
	StoreLastFlushSuccess = define(Spec{Name: "eventwatch_store_last_flush_success_timestamp_seconds", Kind: Gauge, Area: "store",
		Help: "Unix time of the last flush that reached the report store."})
	StoreBuffered = define(Spec{Name: "eventwatch_store_buffered_aggregates", Kind: Gauge, Area: "store",
		Help: "Aggregate rows held in memory waiting for the next flush (grows while the store is unavailable, up to store.buffer_limit)."})
	StoreDropped = define(Spec{Name: "eventwatch_store_dropped_aggregates_total", Kind: Counter, Area: "store",
		Help: "Aggregate rows dropped because the buffer was full while the store was unavailable (their counts are lost from reports)."})
	StorePositionConflicts = define(Spec{Name: "eventwatch_store_position_conflicts_total", Kind: Counter, Area: "store",
		Help: "Flushes that found a partition's stored position moved under this replica (another replica or an earlier attempt counted it); what was held for it was discarded and the partition read again from the stored position."})
	StoreRefusedRanges = define(Spec{Name: "eventwatch_store_refused_ranges_total", Kind: Counter, Area: "store",
		Help: "Ranges the sampler closed that the ledger refused to count because the records observed for the partition were not those of the range (records before or beyond it, or one observed twice: an audit that outlived its revoke's or rewind's barrier, or a sampler fault); what was held for the partition was discarded and it is read again from its first unstored range, so nothing is counted twice. Each refusal is logged as \"ledger protocol breach\"; a rate that stays above zero is a fault to report."})
	StoreEventIDs = define(Spec{Name: "eventwatch_store_event_ids", Kind: Gauge, Area: "store",
		Help: "Event ids the report store remembers for duplicate.event_id (table event_ids, one row per audited id for audit.duplicate_window; plan its disk from this): counted exactly at start and hourly, between counts kept from the ids this replica stored and expired; 0 with audit.duplicate_store false."})
	StoreExpiredEventIDs = define(Spec{Name: "eventwatch_store_expired_event_ids_total", Kind: Counter, Area: "store",
		Help: "Remembered event ids this replica deleted from the report store because they were older than audit.duplicate_window."})
	StoreFlushDuration = define(Spec{Name: "eventwatch_store_flush_duration_seconds", Kind: Histogram, Area: "store",
		Help:    "Time one flush of aggregates to the report store took.",
		Buckets: []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30}})
)

// Violation stream metrics (GET /api/v1/violations/stream, owned by the
// report aggregator's live fan-out).
var (
	ViolationStreamClients = define(Spec{Name: "eventwatch_violation_stream_clients", Kind: Gauge, Area: "store",
		Help: "Clients following GET /api/v1/violations/stream (or eventwatch tail) now."})
	ViolationStreamDropped = define(Spec{Name: "eventwatch_violation_stream_dropped_clients_total", Kind: Counter, Area: "store",
		Help: "Stream clients dropped because they read slower than violations arrived (their bounded buffer filled); sampling never waits for a client."})
)
