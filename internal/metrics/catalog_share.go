package metrics

// Shared replica state (owned by internal/share).
var (
	SharePublishErrors = define(Spec{Name: "eventwatch_share_publish_errors_total", Kind: Counter, Area: "self",
		Help:   "Publications of a state document (flows, groups, ...) to the shared state topic that failed, by kind; the document's changed items are written again at the next attempt.",
		Labels: []string{"kind"}})
	ShareDocuments = define(Spec{Name: "eventwatch_share_documents", Kind: Gauge, Area: "self",
		Help:   "State documents held from the shared state topic (this replica's and the others'), by kind and freshness (fresh, stale).",
		Labels: []string{"kind", "freshness"}})
	SharePublishedRecords = define(Spec{Name: "eventwatch_share_published_records_total", Kind: Counter, Area: "self",
		Help:   "Records this replica wrote to the shared state topic (changed items, their parts, tombstones and heads), by document kind; an unchanged item is never written again.",
		Labels: []string{"kind"}})
	SharePublishedBytes = define(Spec{Name: "eventwatch_share_published_bytes_total", Kind: Counter, Area: "self",
		Help:   "Bytes of record values this replica wrote to the shared state topic, before compression, by document kind.",
		Labels: []string{"kind"}})
	ShareSplitItems = define(Spec{Name: "eventwatch_share_split_items_total", Kind: Counter, Area: "self",
		Help:   "Shared items larger than the record budget (a quarter of the topic's max.message.bytes, at most 256 KiB) written in several records, by kind.",
		Labels: []string{"kind"}})
	ShareOmittedItems = define(Spec{Name: "eventwatch_share_omitted_items_total", Kind: Counter, Area: "self",
		Help:   "Shared items left out because they were too large even in 64 parts, by kind, at every publication that leaves them out; the document's head names them and readers count them missing.",
		Labels: []string{"kind"}})
	ShareLargestRecord = define(Spec{Name: "eventwatch_share_largest_record_bytes", Kind: Gauge, Area: "self",
		Help:   "Largest record (key and value, before compression) this replica wrote to the shared state topic, by kind.",
		Labels: []string{"kind"}})
	ShareRecordLimit = define(Spec{Name: "eventwatch_share_max_message_bytes", Kind: Gauge, Area: "self",
		Help: "The shared state topic's max.message.bytes as this replica last read it; records are cut to a quarter of it."})
	ShareViewAge = define(Spec{Name: "eventwatch_share_view_age_seconds", Kind: Gauge, Area: "self",
		Help:   "Age of the newest state document of each kind this replica holds (by its publisher's clock): how far behind the publisher this replica's estate-wide answer may be.",
		Labels: []string{"kind"}})
	ShareViewIncomplete = define(Spec{Name: "eventwatch_share_view_missing_items", Kind: Gauge, Area: "self",
		Help:   "Items the shared documents' heads count that this replica could not read from the topic (omitted as too large, or lost), by kind; 0 when every view is complete.",
		Labels: []string{"kind"}})
)
