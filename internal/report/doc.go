// Package report builds weekly compliance reports from the report store and
// renders them.
//
// Reports are built from the store for one ISO week in the configured time
// zone (Build, BuildFor) and rendered as JSON, CSV, Markdown or a printable
// HTML page with inline SVG charts (Render). The store is filled by
// internal/ledger, which owns the exactly-once accounting (positions,
// fencing, flushes); this package only reads what it stored.
//
// API serves them on GET /api/v1/reports and GET /api/v1/reports/weekly,
// and the stored violation examples on GET /api/v1/violations (plus a live
// Server-Sent Events stream fed by Publish); RequireToken guards them with
// an optional bearer token. A store that cannot be read answers 503.
//
// Metrics: eventwatch_violation_stream_clients,
// eventwatch_violation_stream_dropped_clients_total.
package report
