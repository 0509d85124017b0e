// Package config is the daemon's configuration file: one YAML document whose
// top-level keys are the sections of the packages that do the work
// (kafka, audit, sample, lag, trace, store, reports, leader, share) plus the daemon's own
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
// of /api/* is reports.token or reports.token_file.
package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/audit"
	"github.com/eventwatch/eventwatch/internal/kafka"
	"github.com/eventwatch/eventwatch/internal/lag"
	"github.com/eventwatch/eventwatch/internal/leader"
	"github.com/eventwatch/eventwatch/internal/report"
	"github.com/eventwatch/eventwatch/internal/sample"
	"github.com/eventwatch/eventwatch/internal/share"
	"github.com/eventwatch/eventwatch/internal/store"
	"github.com/eventwatch/eventwatch/internal/team"
	"github.com/eventwatch/eventwatch/internal/trace"
)

// DefaultHTTPAddr is the default listen address of the HTTP server.
const DefaultHTTPAddr = ":9779"

// Config is the whole configuration file.
type Config struct {
	DataDir string        `yaml:"data_dir"` // directory for local state (the SQLite report store); created when missing
	Kafka   kafka.Config  `yaml:"kafka"`    // cluster connection
	Audit   AuditConfig   `yaml:"audit"`    // which standard is enforced, per topic
	Sample  sample.Config `yaml:"sample"`   // passive sampling consumer
	Lag     lag.Config    `yaml:"lag"`      // consumer lag, DLQ and topic config collection (leader only)
	Trace   trace.Config  `yaml:"trace"`    // hop stitching and OTLP export
	Store   store.Config  `yaml:"store"`    // report store
	Reports report.Config `yaml:"reports"`  // weekly reports and the bearer token of /api/*
	Leader  leader.Config `yaml:"leader"`   // election of the replica that runs the singleton work
	Share   share.Config  `yaml:"share"`    // state documents every replica shares (estate-wide API answers)
	Teams   []team.Team   `yaml:"teams"`    // service -> team ownership (reports and the violations API scope by team)
	HTTP    HTTPConfig    `yaml:"http"`     // HTTP server
	Log     LogConfig     `yaml:"log"`      // logging
}

// AuditConfig is the `audit:` section: the profile (or custom policy)
// enforced on every topic, and per-topic overrides.
type AuditConfig struct {
	Profile         string          `yaml:"profile"`          // built-in profile: huleedu or authorworks
	Policy          string          `yaml:"policy"`           // custom policy file; replaces profile when set
	Catalog         string          `yaml:"catalog"`          // event catalog: a directory of entries or an AsyncAPI 2.6/3.0 document; enables the catalog.* rules
	DuplicateWindow time.Duration   `yaml:"duplicate_window"` // how long event ids are remembered for duplicate.event_id
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
		c.Trace.Validate(), c.Store.Validate(), c.Reports.Validate(), c.Leader.Validate(), c.Share.Validate(), team.Validate(c.Teams), c.HTTP.Validate(), c.Log.Validate())
	return errors.Join(errs...)
}

// SetDefaults fills the defaults.
func (a *AuditConfig) SetDefaults() {
	a.Profile = "huleedu"
	a.DuplicateWindow = 10 * time.Minute
}

// Validate reports problems with their key paths.
func (a *AuditConfig) Validate() error {
	var errs []error
	errs = append(errs, checkProfile("audit", a.Profile, a.Policy))
	if a.DuplicateWindow <= 0 {
		errs = append(errs, fmt.Errorf("audit.duplicate_window: must be positive, got %s", a.DuplicateWindow))
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

func checkProfile(path, profile, policy string) error {
	if policy != "" {
		return nil
	}
	if profile == "" {
		return fmt.Errorf("%s.profile: required unless policy is set (one of %s)", path, strings.Join(audit.BuiltinProfiles(), ", "))
	}
	if !slices.Contains(audit.BuiltinProfiles(), profile) {
		return fmt.Errorf("%s.profile: unknown profile %q (want one of %s, or set policy)", path, profile, strings.Join(audit.BuiltinProfiles(), ", "))
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
	return errors.Join(errs...)
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
