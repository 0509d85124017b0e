package report

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config is the reports section of the daemon's YAML file (`reports:`).
// Call SetDefaults before decoding and Validate after.
type Config struct {
	// Deprecated: the bearer token guards all of /api/* and /metrics, so it
	// lives in the http section now (http.token, http.token_file,
	// http.protect_metrics). config.Config.MigrateDeprecated moves these
	// three there when a file still sets them; nothing in this package reads
	// them.
	Token          string `yaml:"token"`
	TokenFile      string `yaml:"token_file"`      // Deprecated: use http.token_file
	ProtectMetrics bool   `yaml:"protect_metrics"` // Deprecated: use http.protect_metrics
	TimeZone       string `yaml:"time_zone"`       // IANA zone that ISO weeks and days are cut in; default UTC
	RulesDocURL    string `yaml:"rules_doc_url"`   // docs/rules.md that rule links point into; default the eventwatch repository's

	loc *time.Location
}

// SetDefaults fills every unset field with its default.
func (c *Config) SetDefaults() {
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	if c.RulesDocURL == "" {
		c.RulesDocURL = DefaultRulesDoc
	}
}

// Validate checks c and loads the time zone. Messages name the field with its
// YAML path, for example "reports.time_zone: unknown time zone Mars/Olympus".
func (c *Config) Validate() error {
	var errs []error
	if c.Token != "" || c.TokenFile != "" || c.ProtectMetrics {
		errs = append(errs, errors.New("reports.token: the token keys moved to the http section (http.token, http.token_file, http.protect_metrics)"))
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		errs = append(errs, fmt.Errorf("reports.time_zone: unknown time zone %s", c.TimeZone))
	}
	c.loc = loc
	return errors.Join(errs...)
}

// Location returns the configured time zone (UTC before Validate).
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// ReadTokenFile reads a token file (the daemon's http.token_file, the
// clients' --token-file), trimming surrounding whitespace. An
// empty file is an error: it would silently open the API.
func ReadTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}
