package store

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Drivers Open can return.
const (
	DriverSQLite   = "sqlite"   // embedded SQLite file (modernc.org/sqlite, pure Go)
	DriverPostgres = "postgres" // PostgreSQL through pgx
)

// DefaultFile is the SQLite file name used in the data directory when the
// DSN names no file.
const DefaultFile = "eventwatch.db"

// Config is the report store's configuration, the `store:` section of the
// daemon's YAML file. Call SetDefaults before decoding and Validate after.
type Config struct {
	DSN              string        `yaml:"dsn"`                        // "" or sqlite:///path or a file path: SQLite (relative paths resolve in the data dir); postgres://...: PostgreSQL
	RetentionWeeks   int           `yaml:"retention_weeks"`            // weeks of hourly aggregates kept; default 26
	FlushInterval    time.Duration `yaml:"flush_interval"`             // how often aggregates and their input positions are written; default 10s; a kill -9 loses nothing (the records since are read again)
	MaxExamples      int           `yaml:"max_examples_per_key"`       // violation examples kept per (rule, service, topic), the most recent; default 5
	ExampleRetention time.Duration `yaml:"example_retention"`          // how long violation examples are kept; default 336h (two weeks), at most the retention
	BufferLimit      int           `yaml:"buffer_limit"`               // aggregate rows held in memory while the store is unavailable; when full the sampler pauses fetching; default 50000
	LegacyMaxPerHour int           `yaml:"max_examples_per_rule_hour"` // deprecated spelling of max_examples_per_key (still accepted)
	// Schema is the PostgreSQL schema eventwatch's tables live in, created
	// when missing; "" keeps the connection's search_path (public). Two
	// deployments (chart releases) that share one database keep their
	// reports apart with a schema each. Ignored by SQLite.
	Schema string `yaml:"schema"`
}

// schemaPattern is what store.schema accepts: an unquoted PostgreSQL
// identifier, so it is used as is in CREATE SCHEMA and search_path.
var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// SetDefaults fills every unset field with its default.
func (c *Config) SetDefaults() {
	if c.RetentionWeeks == 0 {
		c.RetentionWeeks = 26
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 10 * time.Second
	}
	if c.MaxExamples == 0 {
		c.MaxExamples = 5
	}
	if c.ExampleRetention == 0 {
		c.ExampleRetention = 14 * 24 * time.Hour
	}
	if c.BufferLimit == 0 {
		c.BufferLimit = 50000
	}
}

// Validate checks c. Messages name the field with its YAML path, for example
// "store.flush_interval: must be >= 50ms, got 1ms".
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("store.%s: %s", field, fmt.Sprintf(format, a...)))
	}
	if _, _, err := c.Target(""); err != nil {
		bad("dsn", "%v", err)
	}
	retentionOK := c.RetentionWeeks >= 1 && c.RetentionWeeks <= 520
	if !retentionOK {
		bad("retention_weeks", "must be between 1 and 520, got %d", c.RetentionWeeks)
	}
	if c.FlushInterval < 50*time.Millisecond {
		bad("flush_interval", "must be >= 50ms, got %s", c.FlushInterval)
	}
	if c.LegacyMaxPerHour != 0 { // the deprecated spelling wins over the default
		c.MaxExamples, c.LegacyMaxPerHour = c.LegacyMaxPerHour, 0
	}
	if c.MaxExamples < 1 || c.MaxExamples > 100 {
		bad("max_examples_per_key", "must be between 1 and 100, got %d", c.MaxExamples)
	}
	// compared with the retention only when that is valid: a bad
	// retention_weeks is one error, not two
	if c.ExampleRetention < time.Hour || (retentionOK && c.ExampleRetention > c.Retention()) {
		bad("example_retention", "must be between 1h and store.retention_weeks (%d weeks), got %s", c.RetentionWeeks, c.ExampleRetention)
	}
	if c.Schema != "" && !schemaPattern.MatchString(c.Schema) {
		bad("schema", "must be a lower-case PostgreSQL identifier (a-z, 0-9, _; at most 63; not starting with a digit), got %q", c.Schema)
	}
	if c.BufferLimit < 1 {
		bad("buffer_limit", "must be >= 1, got %d", c.BufferLimit)
	}
	return errors.Join(errs...)
}

// Retention returns how long aggregates are kept.
func (c *Config) Retention() time.Duration {
	return time.Duration(c.RetentionWeeks) * 7 * 24 * time.Hour
}

// Target resolves the DSN to a driver and a driver-specific data source:
// a file path for SQLite (relative to dataDir when relative) or the URL for
// PostgreSQL.
func (c *Config) Target(dataDir string) (driver, source string, err error) {
	dsn := strings.TrimSpace(c.DSN)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", errors.New("not a valid postgres:// URL")
		}
		if c.Schema != "" {
			q := u.Query()
			q.Set("search_path", c.Schema) // a run-time parameter of every connection
			u.RawQuery = q.Encode()
			dsn = u.String()
		}
		return DriverPostgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite://"):
		dsn = strings.TrimPrefix(dsn, "sqlite://")
	case strings.Contains(dsn, "://"):
		return "", "", fmt.Errorf("unsupported scheme in %q: want sqlite:///path, a file path or postgres://", Redact(dsn))
	}
	if dsn == "" {
		dsn = DefaultFile
	}
	if !filepath.IsAbs(dsn) {
		dsn = filepath.Join(dataDir, dsn)
	}
	return DriverSQLite, dsn, nil
}

// Redact returns dsn with any password replaced by "xxxxx", for logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
