package dlq

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config is the `dlq:` section: triage of dead letters and governed replay.
type Config struct {
	Triage TriageConfig `yaml:"triage"` // dead letters by cause (GET /api/v1/dlq)
	Replay ReplayConfig `yaml:"replay"` // reprocessing (POST /api/v1/dlq/replays); off by default
	// ShowPayload lets `eventwatch dlq show` (GET /api/v1/dlq/{topic}/records/...)
	// return a dead letter's value and header values to the admin
	// credential. Off by default: no payload value leaves eventwatch.
	ShowPayload bool `yaml:"show_payload"`
}

// TriageConfig bounds the triage of dead letters.
type TriageConfig struct {
	Enabled    bool          `yaml:"enabled"`     // read every dead-letter topic (lag.dlq_patterns) from its start and group its records by cause
	MaxClasses int           `yaml:"max_classes"` // distinct causes kept per dead-letter topic; later ones count under error class "other"
	Retention  time.Duration `yaml:"retention"`   // how long hourly trend buckets are kept (first/last seen and totals are kept for ever)
	Refresh    time.Duration `yaml:"refresh"`     // how often new dead-letter topics are looked for
}

// ReplayConfig governs replay. Replay needs its own credential: the read
// token of /api/* cannot replay (403).
type ReplayConfig struct {
	Enabled        bool   `yaml:"enabled"`          // allow replays at all (POST /api/v1/dlq/replays answers 403 when off)
	AdminToken     string `yaml:"admin_token"`      // the admin bearer token (prefer admin_token_file)
	AdminTokenFile string `yaml:"admin_token_file"` // file holding the admin bearer token (surrounding whitespace trimmed)
	Rate           int    `yaml:"rate"`             // records sent per second at most
	MaxRecords     int    `yaml:"max_records"`      // records one replay may select; a larger selection is refused (narrow it)
	// ResumeAfter is how long a running replay may go without progress
	// before another start of eventwatch takes it over (a replay whose
	// daemon was killed resumes when the daemon comes back).
	ResumeAfter time.Duration `yaml:"resume_after"`
}

// SetDefaults fills every zero field with its default.
func (c *Config) SetDefaults() {
	c.Triage.Enabled = true
	c.Triage.MaxClasses = 50
	c.Triage.Retention = 30 * 24 * time.Hour
	c.Triage.Refresh = 30 * time.Second
	c.Replay.Rate = 50
	c.Replay.MaxRecords = 10000
	c.Replay.ResumeAfter = 15 * time.Second
}

// Validate reports every invalid field with its path under `dlq`.
func (c *Config) Validate() error {
	var errs []error
	if c.Triage.MaxClasses < 1 {
		errs = append(errs, fmt.Errorf("dlq.triage.max_classes: must be at least 1, got %d", c.Triage.MaxClasses))
	}
	if c.Triage.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("dlq.triage.retention: must be at least 1h, got %s", c.Triage.Retention))
	}
	if c.Triage.Refresh < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("dlq.triage.refresh: must be at least 100ms, got %s", c.Triage.Refresh))
	}
	errs = append(errs, c.Replay.validate())
	return errors.Join(errs...)
}

func (r *ReplayConfig) validate() error {
	var errs []error
	if r.Rate < 1 {
		errs = append(errs, fmt.Errorf("dlq.replay.rate: must be at least 1 record per second, got %d", r.Rate))
	}
	if r.MaxRecords < 1 {
		errs = append(errs, fmt.Errorf("dlq.replay.max_records: must be at least 1, got %d", r.MaxRecords))
	}
	if r.ResumeAfter < time.Second {
		errs = append(errs, fmt.Errorf("dlq.replay.resume_after: must be at least 1s, got %s", r.ResumeAfter))
	}
	if r.AdminToken != "" && r.AdminTokenFile != "" {
		errs = append(errs, errors.New("dlq.replay.admin_token_file: set admin_token or admin_token_file, not both"))
	}
	if r.Enabled && r.AdminToken == "" && r.AdminTokenFile == "" {
		errs = append(errs, errors.New("dlq.replay.admin_token_file: required when dlq.replay.enabled (replay needs its own credential)"))
	}
	return errors.Join(errs...)
}

// Token returns the admin token: admin_token, else the trimmed content of
// admin_token_file, else "" (no admin credential: nothing admin-only is
// allowed).
func (r *ReplayConfig) Token() (string, error) {
	if r.AdminToken != "" || r.AdminTokenFile == "" {
		return r.AdminToken, nil
	}
	b, err := os.ReadFile(r.AdminTokenFile)
	if err != nil {
		return "", fmt.Errorf("dlq.replay.admin_token_file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("dlq.replay.admin_token_file: %s is empty", r.AdminTokenFile)
	}
	return tok, nil
}
