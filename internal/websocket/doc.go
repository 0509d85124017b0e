// Package websocket probes WebSocket endpoints against the WebSocket
// clause of a house standard (AuthorWorks 002, "WebSocket Standards"), in
// the manner of blackbox_exporter: `websocket.targets` names the endpoints
// (URL, owning service, profile, how to read the JWT), `websocket.modules`
// how to probe them (timeouts, listen window, token placement, heartbeat
// message shapes, TLS), and every target is probed on its interval.
//
// One probe:
//
//  1. checks the URL's path against the profile's endpoint pattern
//     (authorworks: /v1/{service}/ws, {service} being the target's
//     service) — websocket.endpoint_path;
//  2. connects with the token (must be accepted; otherwise the probe fails
//     and nothing else is judged) and holds that connection for the listen
//     window: every data message is audited by the same audit.Engine as
//     Kafka records, under the record rule ids, attributed to the target's
//     service, with the endpoint path standing for the topic (naming.topic,
//     key.missing and dlq.missing_error_context do not apply); ping frames
//     and heartbeat messages (Module.HeartbeatMessages) are timed; one ping
//     asks whether the server answers pings;
//  3. meanwhile connects without a token (must be refused: HTTP 401/403 on
//     the upgrade, or a close with 1008) — websocket.auth_missing — and
//     with invalid tokens made from the real one (malformed, tampered
//     signature, alg none, expired: the configured expired token, else the
//     claims re-dated) — websocket.auth_invalid_accepted. A connection
//     counts as accepted when it stays open for auth_wait or delivers data;
//  4. judges the heartbeat: the longest silence (from the upgrade to the
//     first heartbeat, between heartbeats, from the last to the end of the
//     window) against the profile's interval plus tolerance —
//     websocket.heartbeat_late, or websocket.heartbeat_missing when none
//     came in a window at least that long (a shorter window is not judged);
//  5. closes with 1000 and records how every connection ended (close code
//     and reason).
//
// Partial failure: a target that is down, does not speak WebSocket, fails
// TLS, never answers or sends a message over max_message_bytes is a failed
// probe with the reason (probe_success 0), never a stuck one: every
// connection has a deadline and the whole probe one more. Secrets: the
// token is read from a file or an environment variable at each probe and
// removed from every text the prober keeps, logs or exports (errors, close
// reasons, violation messages), in every form it was sent.
//
// Schedule: a target's first probe after start listens only the module's
// first_listen (10 s by default), so its findings show within seconds; the
// full-length probe follows at once, then one every interval. While a probe
// listens, Status.InProgress holds what it found so far.
//
// Replicas: every replica probes every target (as every Prometheus probes
// through its own blackbox_exporter); GET /api/v1/websockets answers with
// this replica's last results. The leader's Totals are what the weekly
// report stores per target and hour (the daemon's ledger cluster source,
// store.KindWS*), so a week's probe results survive restarts.
//
// # Metrics
//
//	eventwatch_websocket_probe_success{target,service}                gauge
//	eventwatch_websocket_probe_compliant{target,service}              gauge
//	eventwatch_websocket_probe_duration_seconds{target,service}       gauge
//	eventwatch_websocket_probes_total{target,service,result}          counter
//	eventwatch_websocket_heartbeat_interval_seconds{target,service,kind} histogram
//	eventwatch_websocket_ping_answered{target,service}                gauge
//	eventwatch_websocket_messages_received_total{target,service,kind} counter
//	eventwatch_websocket_messages_audited_total{target,service}       counter
//	eventwatch_websocket_messages_compliant_total{target,service}     counter
//	eventwatch_websocket_violations_total{target,service,rule,severity} counter
//	eventwatch_websocket_server_closes_total{target,service,attempt,code} counter
//
// Every violation is also counted in the estate-wide
// eventwatch_violations_total{rule,topic,source_service,severity,transport}
// with transport "websocket", the endpoint path as topic and the target's
// service as source_service (Options.Violations; the daemon's
// recordmetrics.Counters), so violations by rule cover both transports.
//
// Reconnection with exponential backoff (the standard's fourth point) is a
// client behaviour that a server-side prober cannot observe; no rule
// pretends to check it.
package websocket
