package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/catalog"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/readers"
	"github.com/eventwatch/eventwatch/internal/sample"
)

// handler returns the daemon's HTTP routes:
//
//	GET /metrics                 Prometheus exposition (bearer token when http.protect_metrics)
//	GET /healthz                 200 while the process serves requests
//	GET /readyz                  200 when Kafka answers, else 503 with the reason
//	GET /api/v1/flows            trace stitching report, merged over every replica (share)
//	GET /api/v1/reports[/weekly] weekly compliance reports (every replica, from the shared store)
//	GET /api/v1/violations       violation examples with their reason, paged (from the shared store)
//	GET /api/v1/violations/stream the same, live, as Server-Sent Events (this replica's records)
//	GET /api/v1/groups[/{group}] consumer lag (the leader's collector, shared with every replica)
//	GET /api/v1/catalog/asyncapi the observed estate as AsyncAPI 3.0 (YAML; ?format=json)
//	GET /api/v1/types            who produces and reads each event type and version, retirement, idempotency
//	GET /api/v1/websockets       the WebSocket probes' last results per target (?service=)
//	POST /v1/traces              OTLP/HTTP span receiver for exact causation (trace.spans.http)
//	GET /api/v1/dlq[/{topic}]    dead letters by cause; /{topic}/records/{p}/{o} one dead letter
//	POST /api/v1/dlq/replays     governed replay (the admin credential, dlq.replay); GET: the audit log
//	GET /debug/pprof/            Go runtime profiles (heap, goroutine, profile...), only with http.pprof
//
// /api/* requires the bearer token (http.token or http.token_file) when one
// is configured.
func (d *daemon) handler() http.Handler {
	api := http.NewServeMux()
	d.stitcher.Routes(api)
	d.reports.Routes(api)
	api.HandleFunc("GET /api/v1/groups", d.serveGroups)
	api.HandleFunc("GET /api/v1/groups/{group}", d.serveGroups)
	d.dlqAPI.Routes(api)
	catalog.Routes(api, d.estates.estate)
	d.ws.Routes(api)
	readers.Routes(api, d.readersEstate)

	mux := http.NewServeMux()
	metricsH := lag.MetricsHandler(d.gatherers(), d.leadingLag, d.log)
	if d.cfg.HTTP.ProtectMetrics {
		metricsH = RequireToken(d.token, metricsH)
	}
	mux.Handle("GET /metrics", metricsH)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", d.serveReady)
	mux.Handle("/api/", RequireToken(d.token, api, d.adminToken))
	mux.HandleFunc("GET /{$}", d.serveIndex)
	if d.cfg.HTTP.Pprof {
		mux.Handle("/debug/pprof/", RequireToken(d.token, pprofHandler()))
	}
	if d.cfg.Trace.Spans.HTTP { // services' OTLP/HTTP span export, for exact causation
		mux.Handle("POST /v1/traces", RequireToken(d.token, http.HandlerFunc(d.stitcher.ServeOTLP)))
	}
	return mux
}

// pprofHandler serves net/http/pprof's index, profiles and symbols under
// /debug/pprof/ (registered on its own mux, never on http.DefaultServeMux).
func pprofHandler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}

// leadingLag is the lag collector of the current term, nil while this
// replica does not lead: /metrics adds its snapshot exposition.
func (d *daemon) leadingLag() *lag.Collector {
	if t := d.term.Load(); t != nil {
		return t.lag
	}
	return nil
}

// serveReady answers from the background probe's last result (never a
// Kafka call on the request) and adds what this replica does, for people.
//
// Sampling that has resumed since the probe last failed (the sampler read
// records after the failure began) makes the replica ready at once, without
// waiting for the next probe.
//
// Readiness means "this replica can answer": its Service carries the API
// and /metrics, and taking the pod out of the Service would hide the
// metrics that say what is wrong. Degraded sampling (fetching paused by a
// full report buffer, partitions nobody audits) therefore keeps /readyz
// at 200 and says so: "degraded: ..." in the body, the header
// Eventwatch-Sampling: degraded, eventwatch_sampler_paused and
// eventwatch_sampling_unaudited_partitions, and the alerts
// EventwatchSamplingPaused and EventwatchSamplingStalled.
// /readyz?sampling=1 answers 503 while degraded, for a probe that should
// fail then (an uptime check, not the kubelet).
func (d *daemon) serveReady(w http.ResponseWriter, r *http.Request) {
	ok, reason := d.ready.status()
	st := d.sampler.Status()
	if since := d.ready.failingSince(); !ok && !since.IsZero() && st.Running && st.LastRecord.After(since) {
		ok, reason = true, "kafka: sampling resumed "+st.LastRecord.Sub(since).Round(time.Millisecond).String()+" after the probe failed (the next probe confirms)"
	}
	detail := fmt.Sprintf("sampler: %d partitions; leader: %t", st.AssignedPartitions, d.elector.Leading())
	if c := d.coverage(); c != "" {
		detail += "; " + c
	}
	detail += "; " + d.shareDetail()
	degraded := d.samplingDegraded(st)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Eventwatch-Sampling", "ok")
	if degraded != "" {
		w.Header().Set("Eventwatch-Sampling", "degraded")
		detail += "; degraded: " + degraded
	}
	if !ok || (degraded != "" && r.URL.Query().Get("sampling") == "1") {
		w.WriteHeader(http.StatusServiceUnavailable)
		if ok {
			reason = "sampling degraded (?sampling=1)"
		}
		fmt.Fprintf(w, "not ready: %s; %s\n", reason, detail)
		return
	}
	fmt.Fprintf(w, "ready: %s; %s\n", reason, detail)
}

// samplingDegraded says what keeps records from being audited now ("" when
// nothing): fetching paused, or partitions nobody audits.
func (d *daemon) samplingDegraded(st sample.Status) string {
	var parts []string
	if st.Paused {
		parts = append(parts, "sampling paused: report buffer full (store unavailable), nothing dropped, falling behind")
	}
	if c := d.samplingCoverage(); c != nil && c.Unaudited > 0 {
		parts = append(parts, fmt.Sprintf("%d partitions unaudited", c.Unaudited))
	}
	return strings.Join(parts, ", ")
}

func (d *daemon) serveIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><title>eventwatch</title><h1>eventwatch</h1><ul>
<li><a href="/metrics">/metrics</a><li><a href="/healthz">/healthz</a><li><a href="/readyz">/readyz</a>
<li><a href="/api/v1/groups">/api/v1/groups</a><li><a href="/api/v1/flows">/api/v1/flows</a>
<li><a href="/api/v1/violations">/api/v1/violations</a><li><a href="/api/v1/violations/stream">/api/v1/violations/stream</a>
<li><a href="/api/v1/catalog/asyncapi">/api/v1/catalog/asyncapi</a><li><a href="/api/v1/types">/api/v1/types</a><li><a href="/api/v1/websockets">/api/v1/websockets</a><li><a href="/api/v1/reports">/api/v1/reports</a><li><a href="/api/v1/reports/weekly?format=html">/api/v1/reports/weekly?format=html</a></ul>`)
}

// listen returns the listener to serve on: the injected one, or a new one
// on --http-addr / http.addr.
func (d *daemon) listen() (net.Listener, error) {
	if d.opts.Listener != nil {
		return d.opts.Listener, nil
	}
	addr := d.cfg.HTTP.Addr
	if d.opts.HTTPAddr != "" {
		addr = d.opts.HTTPAddr
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// serve runs srv on ln until ctx is done, then shuts it down within
// http.shutdown_timeout.
func (d *daemon) serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() {
		if d.cfg.HTTP.TLSCertFile != "" {
			errc <- srv.ServeTLS(ln, d.cfg.HTTP.TLSCertFile, d.cfg.HTTP.TLSKeyFile)
			return
		}
		errc <- srv.Serve(ln)
	}()
	d.log.Info("serving HTTP", "addr", ln.Addr().String())
	if d.opts.OnServing != nil {
		d.opts.OnServing(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	return nil
}
