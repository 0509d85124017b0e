// Package check is the offline audit of `eventwatch check`: Run reads
// NDJSON (one bare event value, or one record object as `kcat -C -J`
// prints it, per line — ParseInputLine), audits each with an
// audit.Engine and writes a text or JSON report (the JSON shape is the
// DESIGN.md contract) followed by a Summary. A malformed line is a
// violation (envelope.invalid_json), never an input error; lines have no
// length limit.
package check
