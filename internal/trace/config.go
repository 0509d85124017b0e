package trace

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Defaults applied by SetDefaults.
const (
	DefaultWindow         = 5 * time.Minute
	DefaultMaxOpenChains  = 50000
	DefaultMaxChainEvents = 64
	DefaultMaxStateBytes  = 64 << 20 // 64 MiB of estimated chain state
	minStateBytes         = 1 << 20  // below this the budget could not hold one full chain of every partition
	DefaultMaxPathways    = 100
	DefaultMaxServices    = 200
	DefaultQueueSize      = 10000
	DefaultBrokenChains   = 50
	DefaultRecentChains   = 10
	DefaultOTLPQueueSize  = 4096
	DefaultOTLPBatchSize  = 512
	DefaultOTLPTimeout    = 10 * time.Second
	DefaultOTLPProviders  = 256
)

// OTLP protocols.
const (
	ProtocolGRPC = "grpc" // OTLP over gRPC (default port 4317)
	ProtocolHTTP = "http" // OTLP over HTTP with protobuf bodies (default port 4318)
)

// Config is the trace stitcher's configuration (the `trace:` section of the
// daemon's config file).
type Config struct {
	Window         time.Duration `yaml:"window"`           // a chain closes this long after its last event arrived
	MaxOpenChains  int           `yaml:"max_open_chains"`  // events that would open a chain beyond this are dropped (max_chains)
	MaxChainEvents int           `yaml:"max_chain_events"` // events beyond this in one chain are dropped (chain_full)
	MaxStateBytes  int64         `yaml:"max_state_bytes"`  // estimated bytes of open and remembered closed chains; beyond it the oldest are evicted (closed ones first)
	MaxPathways    int           `yaml:"max_pathways"`     // distinct pathway label values; later ones become "other"
	MaxServices    int           `yaml:"max_services"`     // distinct service label values; later ones become "other"
	QueueSize      int           `yaml:"queue_size"`       // events buffered between Observe and the stitcher (queue_full beyond)
	BrokenChains   int           `yaml:"broken_chains"`    // worst broken chains kept for /api/v1/flows
	RecentChains   int           `yaml:"recent_chains"`    // latest closed chains kept for /api/v1/flows, every event with its upstream; -1 keeps none
	LateWindow     time.Duration `yaml:"late_window"`      // how long a closed chain is remembered so that a late event (a consumer behind by more than window) still joins it; 0: 2 × window, negative: not at all; with routing at most trace.routing.replay − window
	Spans          SpansConfig   `yaml:"spans"`            // OTLP spans read for exact causation
	OTLP           OTLPConfig    `yaml:"otlp"`             // span export
	Routing        RoutingConfig `yaml:"routing"`          // routing of observations to the replica that owns their chain
}

// OTLPConfig configures span export. Empty fields fall back to the standard
// OTEL_EXPORTER_OTLP_* environment variables (endpoint, headers, insecure,
// protocol, timeout), then to the SDK defaults.
type OTLPConfig struct {
	Enabled     bool              `yaml:"enabled"`      // export a span per sampled event; false: OTEL_TRACES_EXPORTER=otlp switches it on
	Protocol    string            `yaml:"protocol"`     // grpc or http; empty: OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, else grpc
	Endpoint    string            `yaml:"endpoint"`     // host:port or URL; empty: OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT
	Insecure    *bool             `yaml:"insecure"`     // plaintext instead of TLS; unset: OTEL_EXPORTER_OTLP_INSECURE or URL scheme
	Headers     map[string]string `yaml:"headers"`      // extra request headers; empty: OTEL_EXPORTER_OTLP_HEADERS
	Timeout     time.Duration     `yaml:"timeout"`      // per export request
	QueueSize   int               `yaml:"queue_size"`   // spans buffered for export; more are dropped (queue_full)
	BatchSize   int               `yaml:"batch_size"`   // spans per export request
	SampleRatio *float64          `yaml:"sample_ratio"` // share of traces exported, by trace id; unset means 1
	Providers   int               `yaml:"providers"`    // per-service tracer providers kept (least recently used evicted)
	Traced      string            `yaml:"traced"`       // span for a record its producer traced (traceparent, or envelope trace and span id): child, link or none
	ServiceName string            `yaml:"service_name"` // service.name of eventwatch's own spans

	// Set by the daemon, not configurable: resource and span attributes.
	ServiceVersion string   `yaml:"-"` // eventwatch's version (service.version)
	InstanceID     string   `yaml:"-"` // this replica (service.instance.id)
	ConsumerGroup  string   `yaml:"-"` // the sampler's group (messaging.consumer.group.name)
	ClientID       string   `yaml:"-"` // the sampler's Kafka client id (messaging.client.id)
	Brokers        []string `yaml:"-"` // the bootstrap brokers; the first is server.address and server.port
}

// What eventwatch exports for a record whose producer traced it (OTLPConfig.Traced).
const (
	TracedChild = "child" // eventwatch's own CLIENT span, a child of the producer's span when that was sampled, else linked to it
	TracedLink  = "link"  // eventwatch's own CLIENT span in a trace of its own, linked to the producer's span (the default: semantic conventions 1.37 link receive spans to the creation context)
	TracedNone  = "none"  // nothing: the producer's own spans tell the story
)

// Defaults of eventwatch's own spans.
const DefaultServiceName = "eventwatch"

// SetDefaults fills every zero field with its default.
func (c *Config) SetDefaults() {
	setDur(&c.Window, DefaultWindow)
	setInt(&c.MaxOpenChains, DefaultMaxOpenChains)
	setInt(&c.MaxChainEvents, DefaultMaxChainEvents)
	if c.MaxStateBytes == 0 {
		c.MaxStateBytes = DefaultMaxStateBytes
	}
	setInt(&c.MaxPathways, DefaultMaxPathways)
	setInt(&c.MaxServices, DefaultMaxServices)
	setInt(&c.QueueSize, DefaultQueueSize)
	setInt(&c.BrokenChains, DefaultBrokenChains)
	setInt(&c.RecentChains, DefaultRecentChains)
	if c.LateWindow == 0 {
		c.LateWindow = 2 * c.Window
	}
	c.Spans.SetDefaults()
	c.OTLP.SetDefaults()
	c.Routing.SetDefaults()
}

// lateWindow is the late window in effect: with routing, at most what a
// partition's next owner can rebuild (the replay horizon less the window);
// negative when off.
func (c *Config) lateWindow() time.Duration {
	lw := c.LateWindow
	if c.Routing.On() && lw > 0 {
		lw = min(lw, c.Routing.replay(c.Window)-c.Window)
	}
	if lw <= 0 {
		return -1
	}
	return lw
}

// SetDefaults fills every zero field with its default. The environment
// fills what the config leaves empty: the protocol, and export is switched
// on by OTEL_TRACES_EXPORTER=otlp (the OpenTelemetry SDK convention).
func (c *OTLPConfig) SetDefaults() {
	if !c.Enabled && exporterFromEnv() {
		c.Enabled = true
	}
	if c.Protocol == "" {
		c.Protocol = protocolFromEnv()
	}
	setDur(&c.Timeout, DefaultOTLPTimeout)
	setInt(&c.QueueSize, DefaultOTLPQueueSize)
	setInt(&c.BatchSize, DefaultOTLPBatchSize)
	setInt(&c.Providers, DefaultOTLPProviders)
	if c.Traced == "" {
		c.Traced = TracedLink
	}
	if c.ServiceName == "" {
		c.ServiceName = DefaultServiceName
	}
	if c.SampleRatio == nil {
		one := 1.0
		c.SampleRatio = &one
	}
}

// Validate reports every invalid field, each error prefixed with its path
// under the `trace` key. The otlp section is checked only when export is on.
func (c *Config) Validate() error {
	var errs []error
	errs = append(errs, positiveDur("trace.window", c.Window))
	errs = append(errs, positive("trace.max_open_chains", c.MaxOpenChains))
	errs = append(errs, positive("trace.max_chain_events", c.MaxChainEvents))
	if c.MaxStateBytes < minStateBytes {
		errs = append(errs, fmt.Errorf("trace.max_state_bytes: must be at least %d (1 MiB), got %d", minStateBytes, c.MaxStateBytes))
	}
	errs = append(errs, positive("trace.max_pathways", c.MaxPathways))
	errs = append(errs, positive("trace.max_services", c.MaxServices))
	errs = append(errs, positive("trace.queue_size", c.QueueSize))
	errs = append(errs, positive("trace.broken_chains", c.BrokenChains))
	if c.RecentChains < -1 {
		errs = append(errs, fmt.Errorf("trace.recent_chains: must be -1 (none) or more, got %d", c.RecentChains))
	}
	errs = append(errs, c.Routing.validate(c.Window)...)
	errs = append(errs, c.Spans.validate()...)
	if c.OTLP.Enabled { // export off: an unrelated OTEL_* variable must not stop the daemon
		errs = append(errs, c.OTLP.validate("trace.otlp")...)
	}
	return errors.Join(errs...)
}

func (c *OTLPConfig) validate(path string) []error {
	var errs []error
	switch c.Protocol {
	case ProtocolGRPC, ProtocolHTTP:
	default:
		errs = append(errs, fmt.Errorf("%s.protocol: %q is not grpc or http", path, c.Protocol))
	}
	errs = append(errs, positiveDur(path+".timeout", c.Timeout))
	errs = append(errs, positive(path+".queue_size", c.QueueSize))
	errs = append(errs, positive(path+".batch_size", c.BatchSize))
	errs = append(errs, positive(path+".providers", c.Providers))
	if c.BatchSize > c.QueueSize && c.QueueSize > 0 {
		errs = append(errs, fmt.Errorf("%s.batch_size: %d is larger than queue_size %d", path, c.BatchSize, c.QueueSize))
	}
	switch c.Traced {
	case TracedChild, TracedLink, TracedNone:
	default:
		errs = append(errs, fmt.Errorf("%s.traced: %q is not child, link or none", path, c.Traced))
	}
	if strings.TrimSpace(c.ServiceName) == "" {
		errs = append(errs, fmt.Errorf("%s.service_name: required", path))
	}
	if r := c.SampleRatio; r != nil && (*r < 0 || *r > 1) {
		errs = append(errs, fmt.Errorf("%s.sample_ratio: %v is not between 0 and 1", path, *r))
	}
	for k := range c.Headers {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, fmt.Errorf("%s.headers: empty header name", path))
		}
	}
	return errs
}

// exporterFromEnv reports whether OTEL_TRACES_EXPORTER names otlp.
func exporterFromEnv() bool {
	for _, name := range strings.Split(os.Getenv("OTEL_TRACES_EXPORTER"), ",") {
		if strings.TrimSpace(name) == "otlp" {
			return true
		}
	}
	return false
}

// protocolFromEnv maps OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (or the general
// OTEL_EXPORTER_OTLP_PROTOCOL) to grpc or http; an unset variable means grpc
// and an unknown value is kept so that Validate names it.
func protocolFromEnv() string {
	v := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if v == "" {
		v = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch v {
	case "", "grpc":
		return ProtocolGRPC
	case "http/protobuf", "http":
		return ProtocolHTTP
	default:
		return v
	}
}

func setInt(p *int, d int) {
	if *p == 0 {
		*p = d
	}
}

func setDur(p *time.Duration, d time.Duration) {
	if *p == 0 {
		*p = d
	}
}

func positive(path string, v int) error {
	if v <= 0 {
		return fmt.Errorf("%s: must be positive, got %d", path, v)
	}
	return nil
}

func positiveDur(path string, v time.Duration) error {
	if v <= 0 {
		return fmt.Errorf("%s: must be positive, got %s", path, v)
	}
	return nil
}
