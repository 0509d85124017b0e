// Package daemon is `eventwatch run`: it wires the configured components —
// the passive sampler and its audit engines, the trace stitcher, the report
// ledger and store, and the leader-elected lag collector — into one
// process with an HTTP server (/metrics, /healthz, /readyz, /api/v1/...).
//
// Model: Run builds everything from the configuration first (a bad profile,
// catalog, TLS file or secret fails start-up with the key's path), then one
// errgroup owns the long-running parts. Cancelling ctx (SIGINT, SIGTERM)
// shuts down in order: the sampler stops and drains its audits, then the
// sinks flush (the report store gets the last aggregates), the leader gives
// up the singleton work, and the HTTP server shuts down within
// http.shutdown_timeout.
//
// Partial failure: Kafka being unreachable, or refusing the credentials, is
// not fatal. A background probe retries with backoff, /readyz answers 503
// with the reason and eventwatch_kafka_up is 0 until the cluster answers;
// the components retry on their own. A reload (SIGHUP) that fails keeps the
// running configuration and sets eventwatch_config_last_reload_successful to
// 0. Only the singleton work's metrics depend on leadership: a replica that
// does not lead exports none of them, so Prometheus sums across replicas
// count each group once. The APIs do not: every replica shares its state
// documents through Kafka (package share) — the leader its consumer-group
// view, every replica the flows it stitched — so /api/v1/groups and
// /api/v1/flows give the estate-wide answer on any replica; a replica that
// cannot reach Kafka answers /api/v1/groups with 503 and says so.
package daemon

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventwatch/eventwatch/internal/config"
	"github.com/eventwatch/eventwatch/internal/metrics"
	"github.com/eventwatch/eventwatch/internal/websocket"
)

// Options are the inputs of Run besides the configuration.
type Options struct {
	ConfigPath string          // file re-read on Reload; empty disables reloading from a file
	HTTPAddr   string          // overrides http.addr when not empty (--http-addr)
	Listener   net.Listener    // serve on this listener instead of listening on the address (tests, demo)
	Version    string          // eventwatch version for eventwatch_build_info
	LogOutput  io.Writer       // log destination; os.Stderr when nil
	Reload     <-chan struct{} // each value reloads the configuration (SIGHUP)
	KafkaOpts  []kgo.Opt       // client options appended to the kafka section's (the demo's own)
	// Registry receives every metric; a new one when nil. Tests pass their
	// own to read values directly.
	Registry *prometheus.Registry
	// OnServing, when set, is called with the HTTP server's address once it
	// accepts connections.
	OnServing func(addr string)
}

// Check does everything Run does before touching the network: it loads the
// profiles, policies and catalog, resolves the secrets and reads the TLS
// files (Kafka and HTTPS). `eventwatch run --config.check` calls it after config.Load.
func Check(cfg *config.Config) error {
	if _, err := buildRouter(cfg.Audit, slog.New(slog.DiscardHandler), nil); err != nil {
		return err
	}
	if _, err := cfg.Kafka.Opts(); err != nil {
		return err
	}
	if _, err := resolveDSN(cfg.Store.DSN); err != nil {
		return err
	}
	if _, err := cfg.MigrateDeprecated(); err != nil {
		return err
	}
	if _, err := websocket.New(cfg.WebSocket, websocket.Options{Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)}); err != nil {
		return err
	}
	if _, err := cfg.HTTP.BearerToken(); err != nil {
		return fmt.Errorf("http.token_file: %w", err)
	}
	if cfg.HTTP.TLSCertFile != "" {
		if _, err := tls.LoadX509KeyPair(cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile); err != nil {
			return fmt.Errorf("http.tls_cert_file: %w", err)
		}
	}
	return nil
}

// Run runs the daemon until ctx is done. It returns an error when start-up
// fails (configuration, listen address, store) or a component fails for
// good; a clean shutdown returns nil.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	d, err := newDaemon(ctx, cfg, opts)
	if err != nil {
		return err
	}
	return d.run(ctx)
}

// newRegistry returns reg (or a new registry) with the Go and process
// collectors and eventwatch_build_info registered.
func newRegistry(reg *prometheus.Registry, version string) *prometheus.Registry {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics.BuildInfo.NewGaugeVec(reg).WithLabelValues(version, runtime.Version()).Set(1)
	return reg
}

// newLogger builds the slog logger the log section asks for; level is kept
// so a reload can change it.
func newLogger(c config.LogConfig, w io.Writer, level *slog.LevelVar) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	level.Set(parseLevel(c.Level))
	hopts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, hopts))
	}
	return slog.New(slog.NewJSONHandler(w, hopts))
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
