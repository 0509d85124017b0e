package event

// Record rule ids: one constant per rule evaluated on each audited record
// (internal/audit implements each in its rule_*.go file).
const (
	RuleCatalogProducerMismatch   = "catalog.producer_mismatch"
	RuleCatalogSchema             = "catalog.schema"
	RuleCatalogUnregisteredType   = "catalog.unregistered_type"
	RuleDLQMissingErrorContext    = "dlq.missing_error_context"
	RuleDriftBreakingChange       = "drift.breaking_change"
	RuleDuplicateEventID          = "duplicate.event_id"
	RuleEnvelopeInvalidJSON       = "envelope.invalid_json"
	RuleEnvelopeInvalidTimestamp  = "envelope.invalid_timestamp"
	RuleEnvelopeInvalidUUID       = "envelope.invalid_uuid"
	RuleEnvelopeMissingField      = "envelope.missing_field"
	RuleEnvelopeUnknownField      = "envelope.unknown_field"
	RuleEnvelopeWrongType         = "envelope.wrong_type"
	RuleKeyMissing                = "key.missing"
	RuleNamingActionTense         = "naming.action_tense"
	RuleNamingEventType           = "naming.event_type"
	RuleNamingTopic               = "naming.topic"
	RuleNamingVersionMismatch     = "naming.version_mismatch"
	RuleSizeBlobField             = "size.blob_field"
	RuleSizeEventTooLarge         = "size.event_too_large"
	RuleTraceMissingContext       = "trace.missing_context"
	RuleTraceMissingCorrelationID = "trace.missing_correlation_id"
)

// recordRules is the catalogue entry of every record rule.
var recordRules = []RuleInfo{
	{ID: RuleCatalogProducerMismatch, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the source service is not the catalog's registered producer of the type",
		Standard: "AuthorWorks: Event Types Registry 3 (producing service); HuleEdu 030 §3.1 (source_service)"},
	{ID: RuleCatalogSchema, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the data does not validate against the catalog's JSON Schema for that type and version",
		Standard: "HuleEdu 030 §3.2, §5.3 (typed data, schema validation); AuthorWorks: Producer Responsibilities 5, Consumer Responsibilities 1"},
	{ID: RuleCatalogUnregisteredType, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the event type (and version) is not in the event catalog",
		Standard: "AuthorWorks: Event Types Registry (all event types must be registered); HuleEdu 030 §3.2 (data models from common/)"},
	{ID: RuleDLQMissingErrorContext, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "a dead-letter record does not wrap the original event with error context",
		Standard: "AuthorWorks: Dead Letter Handling 2 (original event is wrapped with error context); HuleEdu 030 §5.2 (DLQ strategy)",
		Settings: []Setting{
			{Key: "original_fields", Path: "rules.dlq.original_fields", Kind: SettingStrings, Default: "[original_event, original, event]", Help: "wrapper fields that may hold the original event (an object or a JSON string)"},
			{Key: "error_fields", Path: "rules.dlq.error_fields", Kind: SettingStrings, Default: "[error, error_context]", Help: "wrapper fields that may hold the error context"},
			{Key: "error_header_prefixes", Path: "rules.dlq.error_header_prefixes", Kind: SettingStrings, Help: "header key prefixes accepted as error context"},
			{Key: "require_wrapper", Path: "rules.dlq.require_wrapper", Kind: SettingBool, Default: "true", Help: "false: a record whose error context is in headers (Spring kafka_dlt-exception-*, Connect __connect.errors.*) may carry the original value as is"},
		}},
	{ID: RuleDriftBreakingChange, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "an event of a known type and version lacks a field every earlier event had, or a field changed JSON type",
		Standard: "HuleEdu 030 §6 (removing fields or changing types REQUIRE a new event version); AuthorWorks: Event Versioning (breaking changes require a new version)"},
	{ID: RuleDuplicateEventID, Severity: SeverityWarning, Scope: ScopeRecord,
		Summary:  "an event id seen before within the duplicate window (at-least-once delivery is fine; the rate is reported)",
		Standard: "HuleEdu 030 §3.1 (event_id unique per event instance), §5.1 (idempotent consumers); AuthorWorks: Delivery Guarantees (at-least-once)"},
	{ID: RuleEnvelopeInvalidJSON, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the value is not a JSON object (binary, truncated, array, scalar, invalid UTF-8, nesting deeper than 64)",
		Standard: "HuleEdu 030 §3.1, §4.2 (EventEnvelope serialized to JSON); AuthorWorks: Event Schema"},
	{ID: RuleEnvelopeInvalidTimestamp, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the event timestamp is not RFC 3339, not UTC, or in the far future or past",
		Standard: "HuleEdu 030 §3.1 (event_timestamp: datetime, UTC); AuthorWorks: Producer Responsibilities 2 (accurate timestamp in UTC)",
		Settings: []Setting{
			{Key: "max_future", Path: "rules.timestamp.max_future", Kind: SettingDuration, Help: "how far past the reference time (record timestamp, else now) an event time may be; unset: unchecked"},
			{Key: "max_age", Path: "rules.timestamp.max_age", Kind: SettingDuration, Help: "how far before the reference time an event time may be; unset: unchecked"},
		}},
	{ID: RuleEnvelopeInvalidUUID, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "an id that must be a UUID (or a UUID v4) is not one",
		Standard: "HuleEdu 030 §3.1 (event_id: UUID, correlation_id: Optional[UUID]); AuthorWorks: Producer Responsibilities 1 (UUID v4)"},
	{ID: RuleEnvelopeMissingField, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "a required envelope field is absent, null or an empty string",
		Standard: "HuleEdu 030 §3.1 (fields you MUST populate); AuthorWorks: Event Schema, Producer Responsibilities 1-3"},
	{ID: RuleEnvelopeUnknownField, Severity: SeverityWarning, Scope: ScopeRecord,
		Summary:  "a field outside the envelope schema (only where the profile is strict)",
		Standard: "AuthorWorks: Event Schema (all events must adhere to a standard schema: meta + data)"},
	{ID: RuleEnvelopeWrongType, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "an envelope field has the wrong JSON type (e.g. a numeric id, data that is not an object)",
		Standard: "HuleEdu 030 §3.1, §3.2 (typed data model); AuthorWorks: Event Schema"},
	{ID: RuleKeyMissing, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the record has no key where the profile requires partitioning by resource id",
		Standard: "AuthorWorks: Kafka Configuration (partitioning based on resource ID), Delivery Guarantees (ordering per partition key)"},
	{ID: RuleNamingActionTense, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the action segment of the event type is not in the past tense",
		Standard: "HuleEdu 030 §3.3 (<action_past_tense>); AuthorWorks: Event Type Naming Convention (examples created, published, succeeded)",
		Settings: []Setting{
			{Key: "action_segment", Path: "rules.naming.action_segment", Kind: SettingIndex, Help: "the dot-separated segment of the event type holding the action; negative counts from the end; unset: unchecked"},
		}},
	{ID: RuleNamingEventType, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the event type does not match the profile's naming pattern",
		Standard: "HuleEdu 030 §3.3 (<project_namespace>.<domain_or_service>.<entity>.<action_past_tense>.v<version_number>); AuthorWorks: Event Type Naming Convention (service.resource.action)",
		Settings: []Setting{
			{Key: "event_type", Path: "rules.naming.event_type", Kind: SettingRegexp, Help: "the whole event type must match; unset: unchecked"},
		}},
	{ID: RuleNamingTopic, Severity: SeverityWarning, Scope: ScopeRecord,
		Summary:  "the topic name does not match the profile's topic pattern",
		Standard: "HuleEdu 030 §4.1 (<project_namespace>.<environment>.<domain_or_service>.<event_type_group_or_entity>); AuthorWorks: Kafka Configuration (topics named according to service and event type)",
		Settings: []Setting{
			{Key: "topic", Path: "rules.naming.topic", Kind: SettingRegexp, Help: "the whole topic name must match; unset: unchecked"},
		}},
	{ID: RuleNamingVersionMismatch, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the version in the event type name disagrees with the version field",
		Standard: "HuleEdu 030 §3.3, §6 (versioned event_type); AuthorWorks: Event Versioning (version in the event metadata)",
		Settings: []Setting{
			{Key: "type_version", Path: "rules.naming.type_version", Kind: SettingGroupRE, Help: "its group captures the version from the type name; unset: no version in type names"},
		}},
	{ID: RuleSizeBlobField, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "a field carries a blob (long free text, base64, data URI) instead of a storage reference",
		Standard: "HuleEdu 030 §3.4 (SHALL NOT carry large data blobs; carry StorageReferenceMetadata)",
		Settings: []Setting{
			{Key: "max_text_bytes", Path: "rules.blob.max_text_bytes", Kind: SettingInt, Default: "0", Help: "a string longer than this is free text carried in the event (0: off)"},
			{Key: "min_base64_bytes", Path: "rules.blob.min_base64_bytes", Kind: SettingInt, Default: "0", Help: "a base64-alphabet string at least this long is an encoded blob (0: off)"},
			{Key: "min_data_uri_bytes", Path: "rules.blob.min_data_uri_bytes", Kind: SettingInt, Default: "0", Help: "a data: URI at least this long is an inline blob (0: off)"},
			{Key: "ignore_paths", Path: "rules.blob.ignore_paths", Kind: SettingGlobs, Help: "field path globs never flagged"},
		}},
	{ID: RuleSizeEventTooLarge, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "the serialized event is larger than the thin-event limit (per profile, topic or type)",
		Standard: "HuleEdu 030 §3.4 (thin events, events as notifications)",
		Settings: []Setting{
			{Key: "max_bytes", Path: "rules.size.max_bytes", Kind: SettingInt, Min: 1, Required: true, Help: "the largest record value in bytes (a topics[i].max_bytes override wins on its topics)"},
			{Key: "per_type", Path: "rules.size.per_type", Kind: SettingIntMap, Min: 1, Help: "event type -> limit in bytes, winning over every other limit"},
		}},
	{ID: RuleTraceMissingContext, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "no trace context: neither the envelope trace fields nor a valid W3C traceparent header",
		Standard: "AuthorWorks: Event Schema (meta.trace_context), Consumer Responsibilities 5, Monitoring 4 (distributed tracing across event boundaries)"},
	{ID: RuleTraceMissingCorrelationID, Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "no correlation id where the profile requires one",
		Standard: "HuleEdu 030 §3.1 (correlation_id: propagate if received, or generate for new chains); AuthorWorks: Producer Responsibilities 4, Consumer Responsibilities 5"},
}
