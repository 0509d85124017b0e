package trace

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigDefaultsValidate(t *testing.T) {
	var c Config
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Window != DefaultWindow || c.OTLP.Protocol != ProtocolGRPC || *c.OTLP.SampleRatio != 1 {
		t.Errorf("defaults = %+v", c)
	}
}

func TestConfigYAMLAndErrors(t *testing.T) {
	doc := `
window: 30s
max_open_chains: -1
max_state_bytes: 4096
max_pathways: 10
otlp:
  enabled: true
  protocol: zipkin
  endpoint: collector:4317
  insecure: true
  headers: {"": x}
  sample_ratio: 1.5
  queue_size: 10
  batch_size: 20
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	c.SetDefaults()
	if c.Window != 30*time.Second || c.MaxPathways != 10 || !*c.OTLP.Insecure || c.OTLP.Endpoint != "collector:4317" {
		t.Errorf("decoded %+v", c)
	}
	err := c.Validate()
	for _, want := range []string{
		"trace.max_open_chains: must be positive, got -1",
		"trace.max_state_bytes: must be at least 1048576 (1 MiB), got 4096",
		`trace.otlp.protocol: "zipkin" is not grpc or http`,
		"trace.otlp.sample_ratio: 1.5 is not between 0 and 1",
		"trace.otlp.batch_size: 20 is larger than queue_size 10",
		"trace.otlp.headers: empty header name",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to contain %q", err, want)
		}
	}
}

func TestConfigProtocolFromEnvironment(t *testing.T) {
	for _, tc := range []struct{ general, traces, want string }{
		{"", "", ProtocolGRPC},
		{"http/protobuf", "", ProtocolHTTP},
		{"http/protobuf", "grpc", ProtocolGRPC},
		{"", "http/json", "http/json"}, // kept so that Validate names it
	} {
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", tc.general)
		t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", tc.traces)
		var c OTLPConfig
		c.SetDefaults()
		if c.Protocol != tc.want {
			t.Errorf("env %q/%q: protocol %q, want %q", tc.general, tc.traces, c.Protocol, tc.want)
		}
	}
	var c Config
	c.OTLP.Protocol = ProtocolHTTP
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	c.SetDefaults()
	if c.OTLP.Protocol != ProtocolHTTP {
		t.Errorf("config protocol was overridden by the environment")
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	_, err := New(Config{MaxPathways: -3}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "trace.max_pathways") {
		t.Fatalf("New = %v, want an error naming trace.max_pathways", err)
	}
}

func TestConfigEnabledFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want bool
	}{{"", false}, {"none", false}, {"otlp", true}, {"console, otlp", true}} {
		t.Setenv("OTEL_TRACES_EXPORTER", tc.env)
		var c OTLPConfig
		c.SetDefaults()
		if c.Enabled != tc.want {
			t.Errorf("OTEL_TRACES_EXPORTER=%q: enabled %v, want %v", tc.env, c.Enabled, tc.want)
		}
	}
}

func TestConfigIgnoresOTLPWhenDisabled(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	var c Config
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("export off, yet Validate = %v", err)
	}
	c.OTLP.Enabled = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "trace.otlp.protocol") {
		t.Errorf("export on: Validate = %v, want the protocol named", err)
	}
}
