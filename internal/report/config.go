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
	Token          string `yaml:"token"`           // bearer token required on /api/*; empty means open (prefer token_file)
	TokenFile      string `yaml:"token_file"`      // file holding the bearer token (surrounding whitespace trimmed)
	ProtectMetrics bool   `yaml:"protect_metrics"` // also require the token on /metrics (health endpoints stay open)
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
	if c.Token != "" && c.TokenFile != "" {
		errs = append(errs, errors.New("reports.token_file: set either token or token_file, not both"))
	}
	if c.TokenFile != "" {
		if _, err := c.BearerToken(); err != nil {
			errs = append(errs, fmt.Errorf("reports.token_file: %w", err))
		}
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

// BearerToken returns the token /api/* requires, reading TokenFile when set;
// empty means no token is required.
func (c *Config) BearerToken() (string, error) {
	if c.TokenFile == "" {
		return c.Token, nil
	}
	return ReadTokenFile(c.TokenFile)
}

// ReadTokenFile reads a token file, trimming surrounding whitespace. An
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
