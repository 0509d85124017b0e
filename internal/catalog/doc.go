// Package catalog is eventwatch's event catalog beyond the directory
// format of internal/audit: it discovers the estate from live traffic and
// writes it as an AsyncAPI 3.0 document, loads AsyncAPI 2.6 and 3.0
// documents as audit catalogs, and compares a declared catalog with the
// discovered one (catalog drift).
//
// Model. A Learner is an event.Sink: for every audited record it counts,
// per (event type, version), the events checked and compliant, first and
// last seen, topics, producing services and Confluent schema ids; for a
// sample of events (the first 64 of each type, then one in 64) it folds
// the decoded value into a Shape (kinds per path, formats, arrays' items)
// and compares the record key with the envelope ids and data members. It
// keeps counts only, never a value, within fixed bounds. Its State is a
// plain value; replicas' states merge exactly (Merge), since every count
// is additive. Discover turns a merged State plus the lag collector's
// snapshot (topic configurations, consumer groups' committed offsets) into
// the AsyncAPI document — with Estate.Readers (internal/readers) a group's
// receive operation lists the messages it reads — and Routes serves it at
// /api/v1/catalog/asyncapi. Impact judges a proposed schema against the
// observed one (breaking or additive, `eventwatch catalog impact`).
//
// The event catalog itself lives here too: a Catalog is a set of Entries
// (type, version, JSON Schema of data, producers, expected consumers) with
// every schema compiled once. LoadDir reads a catalog directory (one entry
// per YAML/JSON file); Load reads a directory or an AsyncAPI document (YAML
// or JSON, local $refs resolved), so the catalog.* rules run the same on
// either — the audit engine asks its questions through audit.Catalog,
// which *Catalog implements; Diff compares a declared catalog with a
// discovered document.
//
// Partial failure: without a lag snapshot (no collection cycle yet, or
// the snapshot is not reachable) the document has no channel bindings and
// no receive operations, and says nothing false.
package catalog
