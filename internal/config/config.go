// Package config is the daemon's configuration file: one YAML document whose
// top-level keys are the sections of the packages that do the work
// (kafka, audit, sample, lag, trace, store, reports, leader, share, websocket) plus the daemon's own
// (http, log, data_dir).
//
// Loading follows one order: every section's defaults are applied, the file
// is checked key by key against the Go types (an unknown key or a value of
// the wrong type is an error naming the key's path, e.g.
// "kafka.sasl.mechansim: unknown field (line 7)"), decoded over the
// defaults, and validated; every section reports its problems with the
// key's path. A file that loads is a runnable configuration as far as
// can be told without touching the network or the files it names; the
// daemon's Check goes one step further (policy, catalog, TLS files,
// secrets).
//
// Secrets: kafka.sasl.password takes "${ENV_VAR}" (the whole value) or
// kafka.sasl.password_file; store.dsn may be "${ENV_VAR}"; the bearer token
// of /api/* (and of /metrics with http.protect_metrics) is http.token or
// http.token_file.
//
// Deprecated keys keep working: reports.token, reports.token_file and
// reports.protect_metrics are moved to the http section when the file is
// parsed (MigrateDeprecated), and each move is recorded in
// Config.Deprecations, which the daemon logs as a warning and
// `eventwatch run --config.check` prints.
package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/policy"

	"github.com/eventwatch/eventwatch/internal/dlq"
	"github.com/eventwatch/eventwatch/internal/kafka"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/leader"
	"github.com/eventwatch/eventwatch/internal/readers"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/sample"
	"github.com/eventwatch/eventwatch/internal/share"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
	"github.com/eventwatch/eventwatch/internal/trace"
	"github.com/eventwatch/eventwatch/internal/websocket"
)

// DefaultHTTPAddr is the default listen address of the HTTP server.
const DefaultHTTPAddr = ":9779"

// Config is the whole configuration file.
type Config struct {
	DataDir string         `yaml:"data_dir"` // directory for local state (the SQLite report store); created when missing
	Kafka   kafka.Config   `yaml:"kafka"`    // cluster connection
	Audit   AuditConfig    `yaml:"audit"`    // which standard is enforced, per topic
	Sample  sample.Config  `yaml:"sample"`   // passive sampling consumer
	Lag     lag.Config     `yaml:"lag"`      // consumer lag, DLQ and topic config collection (leader only)
	Trace   trace.Config   `yaml:"trace"`    // hop stitching and OTLP export
	Store   store.Config   `yaml:"store"`    // report store
	Reports report.Config  `yaml:"reports"`  // weekly reports (its token keys are deprecated: see http)
	Leader  leader.Config  `yaml:"leader"`   // election of the replica that runs the singleton work
	Share   share.Config   `yaml:"share"`    // state documents every replica shares (estate-wide API answers)
	Readers readers.Config `yaml:"readers"`  // who reads which event type and version; retirement verdicts
	DLQ     dlq.Config     `yaml:"dlq"`      // dead letters by cause, and governed replay (off by default)
	Teams   []team.Team    `yaml:"teams"`    // service -> team ownership (reports and the violations API scope by team)
	// WebSocket is the WebSocket prober: endpoints checked against the
	// standard's WebSocket clause (internal/websocket).
	WebSocket websocket.Config `yaml:"websocket"`
	HTTP      HTTPConfig       `yaml:"http"` // HTTP server and its bearer token
	Log       LogConfig        `yaml:"log"`  // logging

	// Deprecations lists the deprecated keys the file used and where they
	// went ("reports.token is deprecated: use http.token"); not a key.
	Deprecations []string `yaml:"-"`
}

// AuditConfig is the `audit:` section: the profile (or custom policy)
// enforced on every topic, and per-topic overrides.
type AuditConfig struct {
	Profile         string          `yaml:"profile"`          // built-in profile: huleedu or authorworks
	Policy          string          `yaml:"policy"`           // custom policy file; replaces profile when set
	Catalog         string          `yaml:"catalog"`          // event catalog: a directory of entries or an AsyncAPI 2.6/3.0 document; enables the catalog.* rules
	DuplicateWindow time.Duration   `yaml:"duplicate_window"` // how long event ids are remembered for duplicate.event_id (in memory, and in the report store across restarts and replicas); default 24h, at most 720h
	DuplicateStore  bool            `yaml:"duplicate_store"`  // also remember event ids in the report store (table event_ids: across restarts and replicas); false keeps duplicate.event_id in-process only; default true
	Overrides       []AuditOverride `yaml:"overrides"`        // topics audited against another profile; first match wins
}

// AuditOverride audits the topics matching Topics against another profile
// or policy than the default.
type AuditOverride struct {
	Topics  []string `yaml:"topics"`  // regexes, anchored at both ends
	Profile string   `yaml:"profile"` // built-in profile
	Policy  string   `yaml:"policy"`  // custom policy file; replaces profile when set
}

// HTTPConfig is the `http:` section.
type HTTPConfig struct {
	Addr              string        `yaml:"addr"`                // listen address; --http-addr overrides it
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`    // how long in-flight requests get on shutdown
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"` // slow-client guard
	ReadTimeout       time.Duration `yaml:"read_timeout"`        // whole request, body included
	WriteTimeout      time.Duration `yaml:"write_timeout"`       // whole response; streams (SSE) clear it for themselves
	IdleTimeout       time.Duration `yaml:"idle_timeout"`        // how long a keep-alive connection may sit idle
	TLSCertFile       string        `yaml:"tls_cert_file"`       // serve HTTPS with this PEM certificate
	TLSKeyFile        string        `yaml:"tls_key_file"`        // and this PEM key
	Token             string        `yaml:"token"`               // bearer token required on /api/*; empty means open (prefer token_file)
	TokenFile         string        `yaml:"token_file"`          // file holding the bearer token (surrounding whitespace trimmed)
	ProtectMetrics    bool          `yaml:"protect_metrics"`     // also require the token on /metrics (health endpoints stay open)
	Pprof             bool          `yaml:"pprof"`               // serve Go's runtime profiles at /debug/pprof/ (behind the token when one is set)
}

// LogConfig is the `log:` section.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // json or text
}

// Default returns the configuration with every default applied.
func Default() *Config {
	c := &Config{}
	c.SetDefaults()
	return c
}

// SetDefaults applies every section's defaults.
func (c *Config) SetDefaults() {
	c.DataDir = "data"
	c.Kafka.SetDefaults()
	c.Audit.SetDefaults()
	c.Sample.SetDefaults()
	c.Lag.SetDefaults()
	c.Trace.SetDefaults()
	c.Store.SetDefaults()
	c.Reports.SetDefaults()
	c.Leader.SetDefaults()
	c.Share.SetDefaults()
	c.Readers.SetDefaults()
	c.WebSocket.SetDefaults()
	c.DLQ.SetDefaults()
	c.HTTP.SetDefaults()
	c.Log.SetDefaults()
}

// Validate checks every section and returns all problems, one per line,
// each prefixed with its key's path.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: required"))
	}
	errs = append(errs, c.Kafka.Validate(), c.Audit.Validate(), c.Sample.Validate(), c.Lag.Validate(),
		c.Trace.Validate(), c.Store.Validate(), c.Reports.Validate(), c.Leader.Validate(), c.Share.Validate(), c.Readers.Validate(), c.DLQ.Validate(), team.Validate(c.Teams), c.HTTP.Validate(), c.Log.Validate(),
		c.WebSocket.Validate())
	return errors.Join(errs...)
}

// SetDefaults fills the defaults.
func (a *AuditConfig) SetDefaults() {
	a.Profile = "huleedu"
	a.DuplicateWindow = 24 * time.Hour
	a.DuplicateStore = true
}

// MaxDuplicateWindow bounds audit.duplicate_window: the report store
// remembers every event id for the window (disk grows with rate × window).
const MaxDuplicateWindow = 30 * 24 * time.Hour

// Validate reports problems with their key paths.
func (a *AuditConfig) Validate() error {
	var errs []error
	errs = append(errs, checkProfile("audit", a.Profile, a.Policy))
	if a.DuplicateWindow < time.Second || a.DuplicateWindow > MaxDuplicateWindow {
		errs = append(errs, fmt.Errorf("audit.duplicate_window: must be between 1s and %s, got %s", MaxDuplicateWindow, a.DuplicateWindow))
	}
	for i, o := range a.Overrides {
		path := fmt.Sprintf("audit.overrides[%d]", i)
		errs = append(errs, checkProfile(path, o.Profile, o.Policy))
		if len(o.Topics) == 0 {
			errs = append(errs, fmt.Errorf("%s.topics: at least one topic regex is required", path))
		}
		for j, re := range o.Topics {
			if _, err := regexp.Compile(re); err != nil {
				errs = append(errs, fmt.Errorf("%s.topics[%d]: %w", path, j, err))
			}
		}
	}
	return errors.Join(errs...)
}

func checkProfile(path, profile, policyFile string) error {
	if policyFile != "" {
		return nil
	}
	if profile == "" {
		return fmt.Errorf("%s.profile: required unless policy is set (one of %s)", path, strings.Join(policy.BuiltinProfiles(), ", "))
	}
	if !slices.Contains(policy.BuiltinProfiles(), profile) {
		return fmt.Errorf("%s.profile: unknown profile %q (want one of %s, or set policy)", path, profile, strings.Join(policy.BuiltinProfiles(), ", "))
	}
	return nil
}

// SetDefaults fills the defaults.
func (h *HTTPConfig) SetDefaults() {
	h.Addr = DefaultHTTPAddr
	h.ShutdownTimeout = 10 * time.Second
	h.ReadHeaderTimeout = 10 * time.Second
	h.ReadTimeout = 30 * time.Second
	h.WriteTimeout = 2 * time.Minute
	h.IdleTimeout = 2 * time.Minute
}

// Validate reports problems with their key paths.
func (h *HTTPConfig) Validate() error {
	var errs []error
	if h.Addr == "" {
		errs = append(errs, errors.New("http.addr: required"))
	}
	if h.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("http.shutdown_timeout: must be positive, got %s", h.ShutdownTimeout))
	}
	for key, d := range map[string]time.Duration{"read_header_timeout": h.ReadHeaderTimeout, "read_timeout": h.ReadTimeout,
		"write_timeout": h.WriteTimeout, "idle_timeout": h.IdleTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("http.%s: must be positive, got %s", key, d))
		}
	}
	if (h.TLSCertFile == "") != (h.TLSKeyFile == "") {
		errs = append(errs, errors.New("http.tls_cert_file: tls_cert_file and tls_key_file must be set together"))
	}
	if h.Token != "" && h.TokenFile != "" {
		errs = append(errs, errors.New("http.token_file: set either token or token_file, not both"))
	}
	if h.TokenFile != "" {
		if _, err := h.BearerToken(); err != nil {
			errs = append(errs, fmt.Errorf("http.token_file: %w", err))
		}
	}
	if h.ProtectMetrics && h.Token == "" && h.TokenFile == "" {
		errs = append(errs, errors.New("http.protect_metrics: needs http.token or http.token_file"))
	}
	return errors.Join(errs...)
}

// BearerToken returns the token /api/* requires, reading TokenFile when set;
// empty means no token is required.
func (h *HTTPConfig) BearerToken() (string, error) {
	if h.TokenFile == "" {
		return h.Token, nil
	}
	tok, err := report.ReadTokenFile(h.TokenFile)
	if err != nil {
		return "", fmt.Errorf("bearer token: %w", err)
	}
	return tok, nil
}

// MigrateDeprecated moves the deprecated reports.token, reports.token_file
// and reports.protect_metrics to the http section, records each move in
// Deprecations and returns the new notes. Setting a token in both places is
// an error (which one was meant cannot be told). Parse calls it; calling it
// again does nothing.
//
//nolint:staticcheck // SA1019: reading the deprecated fields is the point
func (c *Config) MigrateDeprecated() ([]string, error) {
	r, h := &c.Reports, &c.HTTP
	if r.Token == "" && r.TokenFile == "" && !r.ProtectMetrics {
		return nil, nil
	}
	if (r.Token != "" || r.TokenFile != "") && (h.Token != "" || h.TokenFile != "") {
		return nil, errors.New("reports.token: deprecated and set together with http.token or http.token_file; keep only the http keys")
	}
	var notes []string
	move := func(old, now string, set func()) {
		set()
		notes = append(notes, fmt.Sprintf("%s is deprecated: use %s (the value was applied there)", old, now))
	}
	if r.Token != "" {
		move("reports.token", "http.token", func() { h.Token, r.Token = r.Token, "" })
	}
	if r.TokenFile != "" {
		move("reports.token_file", "http.token_file", func() { h.TokenFile, r.TokenFile = r.TokenFile, "" })
	}
	if r.ProtectMetrics {
		move("reports.protect_metrics", "http.protect_metrics", func() { h.ProtectMetrics, r.ProtectMetrics = true, false })
	}
	c.Deprecations = append(c.Deprecations, notes...)
	return notes, nil
}

// SetDefaults fills the defaults.
func (l *LogConfig) SetDefaults() {
	l.Level = "info"
	l.Format = "json"
}

// Validate reports problems with their key paths.
func (l *LogConfig) Validate() error {
	var errs []error
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level) {
		errs = append(errs, fmt.Errorf("log.level: unknown level %q (want debug, info, warn or error)", l.Level))
	}
	if l.Format != "json" && l.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format: unknown format %q (want json or text)", l.Format))
	}
	return errors.Join(errs...)
}
