// Package policy is eventwatch's policy language: the YAML in which a
// standard is written (docs/rules-engine.md, "Policy language") and the
// compiled, immutable Profile the audit engine, the lag collector and the
// WebSocket prober enforce.
//
// A Profile says where the envelope fields live (event id, type, version,
// timestamp, correlation id, source, trace ids, data) and how each is
// checked, which rules run at which severity (per topic), the waivers in
// force, the rules' settings, and the cluster and WebSocket thresholds.
// The built-in profiles "huleedu" (standard 000) and "authorworks"
// (standard 002) are themselves policies (profiles/*.yaml, written to
// examples/policies/ by `make generate`); LoadPolicy reads custom ones in
// the same language, strictly, with errors that name the file, the field
// path and the line.
//
// The package imports only the record vocabulary (internal/event: rule
// ids, the rule catalogue and the settings rules declare there) and
// internal/strictyaml; internal/layering checks that.
package policy
