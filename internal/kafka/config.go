// Package kafka turns eventwatch's `kafka:` configuration section into
// franz-go client options (seed brokers, SASL PLAIN / SCRAM-SHA-256 /
// SCRAM-SHA-512, TLS) shared by every client the daemon creates, and probes
// the cluster for readiness.
//
// Secrets (the SASL password) come from the environment or a file, see
// package secret; the password is resolved at start (to fail fast) and again
// on every SASL authentication, so a rotated password file is picked up on
// the next connection. TLS material is read when Opts is called, so a missing or
// malformed file is reported at start-up, not on the first connection.
// Authentication failures surface on the first request; Probe wraps them in
// an error that says so, and the daemon reports it on /readyz instead of
// exiting, so a wrong password never becomes a crash loop.
package kafka

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// SASL mechanisms eventwatch supports.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// Config is the `kafka:` section.
type Config struct {
	Brokers      []string      `yaml:"brokers"`        // seed brokers, host:port
	ClientID     string        `yaml:"client_id"`      // client id sent to the brokers
	SASL         SASLConfig    `yaml:"sasl"`           // SASL authentication; off when mechanism is empty
	TLS          TLSConfig     `yaml:"tls"`            // TLS to the brokers
	DialTimeout  time.Duration `yaml:"dial_timeout"`   // timeout of one TCP (and TLS) dial
	ProbeTimeout time.Duration `yaml:"probe_timeout"`  // timeout of one readiness probe
	ProbeEvery   time.Duration `yaml:"probe_interval"` // time between readiness probes while healthy
	// ClientMetrics lets eventwatch's clients push KIP-714 client metrics
	// to brokers whose operators subscribed them. Off by default:
	// eventwatch's own /metrics already says what its clients do, and
	// each pushing client keeps lz4 blocks of 4 MB per push in its heap.
	ClientMetrics bool `yaml:"client_metrics"`
}

// SASLConfig is the `kafka.sasl:` section.
type SASLConfig struct {
	Mechanism    string `yaml:"mechanism"`     // "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	Username     string `yaml:"username"`      // SASL user
	Password     string `yaml:"password"`      // inline password, or ${ENV_VAR}
	PasswordFile string `yaml:"password_file"` // file holding the password (trailing newline trimmed)
}

// TLSConfig is the `kafka.tls:` section.
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled"`              // use TLS to the brokers
	CAFile             string `yaml:"ca_file"`              // PEM CA bundle; system roots when empty
	CertFile           string `yaml:"cert_file"`            // PEM client certificate (mutual TLS)
	KeyFile            string `yaml:"key_file"`             // PEM client key (mutual TLS)
	ServerName         string `yaml:"server_name"`          // expected server name; the broker host when empty
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"` // do not verify the broker certificate (testing only)
}

// SetDefaults fills the defaults. It is called before decoding, so keys the
// file sets win.
func (c *Config) SetDefaults() {
	c.Brokers = []string{"localhost:9092"}
	c.ClientID = "eventwatch"
	c.DialTimeout = 10 * time.Second
	c.ProbeTimeout = 5 * time.Second
	c.ProbeEvery = 15 * time.Second
}

// Validate reports the first problem, prefixed with the key's YAML path
// (e.g. "kafka.sasl.mechanism: ...").
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("kafka.brokers: at least one seed broker is required")
	}
	for i, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			return fmt.Errorf("kafka.brokers[%d]: %q is not host:port", i, b)
		}
	}
	for key, d := range map[string]time.Duration{"dial_timeout": c.DialTimeout, "probe_timeout": c.ProbeTimeout, "probe_interval": c.ProbeEvery} {
		if d <= 0 {
			return fmt.Errorf("kafka.%s: must be positive, got %s", key, d)
		}
	}
	if err := c.SASL.validate(); err != nil {
		return fmt.Errorf("kafka.sasl.%w", err)
	}
	if err := c.TLS.validate(); err != nil {
		return fmt.Errorf("kafka.tls.%w", err)
	}
	return nil
}

func (s *SASLConfig) validate() error {
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.Password != "" || s.PasswordFile != "" {
			return errors.New("mechanism: required when a username or password is set (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
		return nil
	case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
	default:
		return fmt.Errorf("mechanism: unknown %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", s.Mechanism)
	}
	if s.Username == "" {
		return errors.New("username: required with mechanism " + s.Mechanism)
	}
	if s.Password != "" && s.PasswordFile != "" {
		return errors.New("password: set either password or password_file, not both")
	}
	if s.Password == "" && s.PasswordFile == "" {
		return errors.New("password: required with mechanism " + s.Mechanism + " (or password_file)")
	}
	return nil
}

func (t *TLSConfig) validate() error {
	if !t.Enabled {
		if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.InsecureSkipVerify {
			return errors.New("enabled: must be true when TLS files or insecure_skip_verify are set")
		}
		return nil
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("cert_file: cert_file and key_file must be set together")
	}
	return nil
}
