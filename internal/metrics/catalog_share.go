package metrics

// Shared replica state (owned by internal/share).
var (
	SharePublishErrors = define(Spec{Name: "eventwatch_share_publish_errors_total", Kind: Counter, Area: "self",
		Help:   "State documents this replica failed to publish to the shared state topic, by kind (flows, groups, ...).",
		Labels: []string{"kind"}})
	ShareDocuments = define(Spec{Name: "eventwatch_share_documents", Kind: Gauge, Area: "self",
		Help:   "State documents held from the shared state topic (this replica's and the others'), by kind and freshness (fresh, stale).",
		Labels: []string{"kind", "freshness"}})
)
