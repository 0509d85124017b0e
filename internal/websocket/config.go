package websocket

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eventwatch/eventwatch/internal/policy"
)

// DefaultModule is the module a target uses when it names none; it exists
// even when websocket.modules does not define it.
const DefaultModule = "default"

// Token placements (Module.TokenIn).
const (
	TokenInHeader = "header" // Authorization: Bearer <token> on the upgrade request
	TokenInQuery  = "query"  // ?<token_param>=<token> on the endpoint URL
)

// Config is the `websocket:` section of the daemon's configuration: the
// endpoints to probe (targets) and named probe settings (modules), in the
// manner of blackbox_exporter. Call SetDefaults before decoding and
// Validate after.
type Config struct {
	Interval time.Duration     `yaml:"interval"` // time from one probe of a target to the next; default 2m
	Modules  map[string]Module `yaml:"modules"`  // named probe settings; "default" exists even when not listed
	Targets  []Target          `yaml:"targets"`  // the endpoints to probe; none disables the prober
}

// Module is how a target is probed. A zero field takes its default.
type Module struct {
	ConnectTimeout    time.Duration    `yaml:"connect_timeout"`    // TCP, TLS and upgrade handshake of one connection; default 10s
	Listen            time.Duration    `yaml:"listen"`             // how long the authenticated connection is held to receive messages and heartbeats; default 70s
	FirstListen       time.Duration    `yaml:"first_listen"`       // the listen window of a target's first probe after start, so results show within seconds (its heartbeat is judged by the next probe, which starts right after); default 10s; >= listen: no short first probe
	AuthWait          time.Duration    `yaml:"auth_wait"`          // how long a connection that should be refused is watched for a close; default 2s
	PingTimeout       time.Duration    `yaml:"ping_timeout"`       // how long the server gets to answer eventwatch's ping frame; default 5s
	MaxMessageBytes   int64            `yaml:"max_message_bytes"`  // larger messages end the probe (size.event_too_large); default 1 MiB
	MaxMessages       int              `yaml:"max_messages"`       // messages audited per probe (later ones are counted, not audited); default 1000
	TokenIn           string           `yaml:"token_in"`           // header (default) or query: where the JWT goes on the upgrade request
	TokenParam        string           `yaml:"token_param"`        // query parameter of token_in: query; default token
	HeartbeatMessages []HeartbeatMatch `yaml:"heartbeat_messages"` // application heartbeats: messages matching one are heartbeats, not events
	TLS               TLSConfig        `yaml:"tls"`                // TLS of wss:// targets
}

// HeartbeatMatch recognises an application-level heartbeat message: a JSON
// object whose value at Path is the string Equals.
type HeartbeatMatch struct {
	Path   string `yaml:"path"`   // dotted JSON path, e.g. type or meta.type
	Equals string `yaml:"equals"` // the string value that marks a heartbeat, e.g. heartbeat
}

// TLSConfig is the TLS of wss:// targets.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`              // PEM bundle of the CAs that sign the endpoint's certificate; default: system roots
	ServerName         string `yaml:"server_name"`          // name checked against the certificate; default: the URL's host
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"` // do not verify the certificate (tests only)
}

// Target is one WebSocket endpoint to probe.
type Target struct {
	Name             string        `yaml:"name"`               // the target label; default: the URL without query
	URL              string        `yaml:"url"`                // ws:// or wss:// endpoint
	Service          string        `yaml:"service"`            // the service that owns the endpoint; {service} of the endpoint pattern; violations are attributed to it
	Module           string        `yaml:"module"`             // module name; default "default"
	Profile          string        `yaml:"profile"`            // built-in profile the endpoint and its messages are checked with; default authorworks
	Policy           string        `yaml:"policy"`             // custom policy file; replaces profile when set
	Interval         time.Duration `yaml:"interval"`           // overrides websocket.interval for this target
	Token            string        `yaml:"token"`              // the JWT as ${ENV_VAR} (never inline)
	TokenFile        string        `yaml:"token_file"`         // or a file holding the JWT
	ExpiredToken     string        `yaml:"expired_token"`      // optional: a genuinely expired JWT of the same issuer, as ${ENV_VAR}
	ExpiredTokenFile string        `yaml:"expired_token_file"` // or a file holding it
}

// SetDefaults fills the defaults. It is safe before decoding YAML into c.
func (c *Config) SetDefaults() {
	if c.Interval == 0 {
		c.Interval = 2 * time.Minute
	}
}

// defaults fills m's zero fields.
func (m *Module) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&m.ConnectTimeout, 10*time.Second)
	set(&m.Listen, 70*time.Second)
	set(&m.FirstListen, 10*time.Second)
	set(&m.AuthWait, 2*time.Second)
	set(&m.PingTimeout, 5*time.Second)
	if m.MaxMessageBytes == 0 {
		m.MaxMessageBytes = 1 << 20
	}
	if m.MaxMessages == 0 {
		m.MaxMessages = 1000
	}
	if m.TokenIn == "" {
		m.TokenIn = TokenInHeader
	}
	if m.TokenParam == "" {
		m.TokenParam = "token"
	}
}

// Module returns the named module with its defaults filled, and whether it
// exists ("default" always does).
func (c *Config) Module(name string) (Module, bool) {
	if name == "" {
		name = DefaultModule
	}
	m, ok := c.Modules[name]
	if !ok && name != DefaultModule {
		return Module{}, false
	}
	m.defaults()
	return m, true
}

var envRef = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)

// Validate reports every problem, each prefixed with its key's path.
func (c *Config) Validate() error {
	var errs []error
	if c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("websocket.interval: must be at least 1s, got %s", c.Interval))
	}
	for _, name := range sortedNames(c.Modules) {
		m := c.Modules[name]
		errs = append(errs, m.validate("websocket.modules."+name))
	}
	seen := map[string]bool{}
	for i := range c.Targets {
		path := fmt.Sprintf("websocket.targets[%d]", i)
		t := &c.Targets[i]
		errs = append(errs, c.validateTarget(path, t))
		if name := t.LabelName(); seen[name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used by another target", path, name))
		} else {
			seen[name] = true
		}
	}
	return errors.Join(errs...)
}

func (m Module) validate(path string) error {
	var errs []error
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"connect_timeout", m.ConnectTimeout}, {"listen", m.Listen}, {"first_listen", m.FirstListen}, {"auth_wait", m.AuthWait}, {"ping_timeout", m.PingTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s.%s: must not be negative, got %s", path, d.key, d.v))
		}
	}
	if m.MaxMessageBytes < 0 || m.MaxMessages < 0 {
		errs = append(errs, fmt.Errorf("%s: max_message_bytes and max_messages must not be negative", path))
	}
	if m.TokenIn != "" && m.TokenIn != TokenInHeader && m.TokenIn != TokenInQuery {
		errs = append(errs, fmt.Errorf("%s.token_in: must be header or query, got %q", path, m.TokenIn))
	}
	for j, h := range m.HeartbeatMessages {
		if h.Path == "" || h.Equals == "" {
			errs = append(errs, fmt.Errorf("%s.heartbeat_messages[%d]: path and equals are required", path, j))
		}
	}
	if (m.TLS.CAFile != "" || m.TLS.ServerName != "") && m.TLS.InsecureSkipVerify {
		errs = append(errs, fmt.Errorf("%s.tls.insecure_skip_verify: cannot be combined with ca_file or server_name", path))
	}
	return errors.Join(errs...)
}

func (c *Config) validateTarget(path string, t *Target) error {
	var errs []error
	u, err := url.Parse(t.URL)
	switch {
	case t.URL == "":
		errs = append(errs, fmt.Errorf("%s.url: required", path))
	case err != nil:
		errs = append(errs, fmt.Errorf("%s.url: %w", path, err))
	case u.Scheme != "ws" && u.Scheme != "wss":
		errs = append(errs, fmt.Errorf("%s.url: scheme must be ws or wss, got %q", path, u.Scheme))
	case u.Host == "":
		errs = append(errs, fmt.Errorf("%s.url: host is required", path))
	case u.User != nil:
		errs = append(errs, fmt.Errorf("%s.url: must not carry credentials (use token or token_file)", path))
	}
	if strings.TrimSpace(t.Service) == "" {
		errs = append(errs, fmt.Errorf("%s.service: required", path))
	}
	if _, ok := c.Module(t.Module); !ok {
		errs = append(errs, fmt.Errorf("%s.module: unknown module %q (define it under websocket.modules)", path, t.Module))
	} else if m, _ := c.Module(t.Module); m.Listen >= t.interval(c.Interval) {
		errs = append(errs, fmt.Errorf("%s: the module's listen (%s) must be shorter than the probe interval (%s)", path, m.Listen, t.interval(c.Interval)))
	}
	if t.Policy == "" && t.Profile != "" && !slices.Contains(policy.BuiltinProfiles(), t.Profile) {
		errs = append(errs, fmt.Errorf("%s.profile: unknown profile %q (want one of %s, or set policy)", path, t.Profile, strings.Join(policy.BuiltinProfiles(), ", ")))
	}
	if t.Interval < 0 || (t.Interval > 0 && t.Interval < time.Second) {
		errs = append(errs, fmt.Errorf("%s.interval: must be at least 1s, got %s", path, t.Interval))
	}
	errs = append(errs, checkSecret(path+".token", t.Token, t.TokenFile, true),
		checkSecret(path+".expired_token", t.ExpiredToken, t.ExpiredTokenFile, false))
	return errors.Join(errs...)
}

// checkSecret requires a secret given as ${ENV_VAR} or a file, never inline.
func checkSecret(field, inline, file string, required bool) error {
	switch {
	case inline != "" && file != "":
		return fmt.Errorf("%s: set either %s or %s_file, not both", field, lastKey(field), lastKey(field))
	case inline != "" && !envRef.MatchString(inline):
		return fmt.Errorf("%s: must be ${ENV_VAR} (a token is never written in the configuration; or use %s_file)", field, lastKey(field))
	case required && inline == "" && file == "":
		return fmt.Errorf("%s: required: the JWT as ${ENV_VAR} or in %s_file", field, lastKey(field))
	}
	return nil
}

func lastKey(field string) string { return field[strings.LastIndexByte(field, '.')+1:] }

// LabelName is the target's label value: its name, else its URL without
// query and fragment.
func (t *Target) LabelName() string {
	if t.Name != "" {
		return t.Name
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return t.URL
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

func (t *Target) interval(def time.Duration) time.Duration {
	if t.Interval > 0 {
		return t.Interval
	}
	return def
}

// tlsConfig builds the client TLS configuration of m for host.
func (m *Module) tlsConfig() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: m.TLS.ServerName, InsecureSkipVerify: m.TLS.InsecureSkipVerify} //nolint:gosec // insecure_skip_verify is an explicit, documented test option
	if m.TLS.CAFile != "" {
		pem, err := os.ReadFile(m.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: no PEM certificate in %s", m.TLS.CAFile)
		}
		c.RootCAs = pool
	}
	return c, nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
