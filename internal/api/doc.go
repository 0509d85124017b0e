// Package api serves the weekly reports and the violation examples over
// HTTP, on every replica, from the report store:
//
//	GET /api/v1/reports           weeks with data
//	GET /api/v1/reports/weekly    one week's report (JSON, CSV, Markdown, HTML)
//	GET /api/v1/violations        stored violation examples, newest first, paged
//	GET /api/v1/violations/stream the same filters, live, as Server-Sent Events
//
// It reads the store and renders with internal/report; it knows nothing of
// positions or flushes (internal/ledger fills the store and feeds the live
// stream through Publish). A store that cannot be read answers 503; a bad
// parameter 400 naming it; a filter naming a team, service, rule or topic
// eventwatch does not know 404 with the nearest known names, so a typo never
// reads as "no violations". The daemon mounts Routes behind its bearer
// token (internal/daemon).
//
// Metrics: eventwatch_violation_stream_clients,
// eventwatch_violation_stream_dropped_clients_total.
package api
