// Package report builds weekly compliance reports from the report store and
// renders them.
//
// Reports are built from the store for one ISO week in the configured time
// zone (Build, BuildFor) and rendered as JSON, CSV, Markdown or a printable
// HTML page with inline SVG charts (Render). The store is filled by
// internal/ledger, which owns the exactly-once accounting (positions,
// fencing, flushes); this package only reads what it stored.
//
// internal/api serves them over HTTP (GET /api/v1/reports[/weekly]), with
// the stored violation examples and their live stream.
package report
