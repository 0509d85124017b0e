package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eventwatch/eventwatch/internal/strictyaml"
)

// TestInvalidFiles: every testdata/invalid-*.yaml fails with its exact
// error text, which names each offending key and its YAML line (the line
// of the nearest written parent for a key left out), every problem of the
// file at once, derived ones left out.
func TestInvalidFiles(t *testing.T) {
	tests := map[string]string{
		"invalid-unknown-key.yaml":              "kafka.sasl.mechansim: unknown field (line 4)",
		"invalid-websocket-inline-token.yaml":   "websocket.targets[0].token: must be ${ENV_VAR} (a token is never written in the configuration; or use token_file) (line 5)",
		"invalid-websocket-unknown-key.yaml":    "websocket.targets[0].profle: unknown field (line 6)",
		"invalid-unknown-top-level.yaml":        "kafak: unknown field (line 1)",
		"invalid-duration.yaml":                 `kafka.dial_timeout: cannot parse "10" as a duration (use a unit, e.g. 30s or 5m) (line 2)`,
		"invalid-bool.yaml":                     `kafka.tls.enabled: cannot parse "maybe" as a boolean (true or false) (line 3)`,
		"invalid-duplicate-store.yaml":          `audit.duplicate_store: cannot parse "sometimes" as a boolean (true or false) (line 3)`,
		"invalid-brokers-scalar.yaml":           "kafka.brokers: expected a list, got a single value (line 2)",
		"invalid-broker-no-port.yaml":           "kafka.brokers[0]: \"localhost\" is not host:port (line 2)",
		"invalid-sasl-mechanism.yaml":           "kafka.sasl.mechanism: unknown \"GSSAPI\" (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) (line 3)",
		"invalid-sasl-no-password.yaml":         "kafka.sasl.password: required with mechanism SCRAM-SHA-512 (or password_file) (line 2)",
		"invalid-tls-cert-without-key.yaml":     "kafka.tls.cert_file: cert_file and key_file must be set together (line 4)",
		"invalid-profile.yaml":                  "audit.profile: unknown profile \"acme\" (want one of authorworks, huleedu, or set policy) (line 2)",
		"invalid-override-regex.yaml":           "audit.overrides[0].topics[0]: error parsing regexp: missing closing ): `^(user|content\\.` (line 3)",
		"invalid-override-list.yaml":            "audit.overrides: expected a list, got a mapping (line 3)",
		"invalid-log-level.yaml":                "log.level: unknown level \"verbose\" (want debug, info, warn or error) (line 2)\nlog.format: unknown format \"xml\" (want json or text) (line 3)",
		"invalid-leader-session.yaml":           "leader.session_timeout: must be at least 1s, got 100ms (line 2)",
		"invalid-http-tls.yaml":                 "http.tls_cert_file: tls_cert_file and tls_key_file must be set together (line 1)",
		"invalid-yaml-syntax.yaml":              "parse yaml: yaml: line 1: did not find expected ',' or ']'",
		"invalid-sample-regex.yaml":             "sample.topics_include: [0] \"[\": error parsing regexp: missing closing ]: `[)$` (line 2)",
		"invalid-lag-interval.yaml":             "lag.interval: must be >= 1s, got 10ms (line 2)",
		"invalid-trace-routing.yaml":            "trace.routing.partitions: must be 1..10000, got 0 (line 4)\ntrace.routing.replay: must be 0 (3 × trace.window) or at least trace.window (10m0s), got 1m0s (line 5)",
		"invalid-share-stale.yaml":              "share.stale_after: must be longer than share.interval (10s), got 5s (line 3)",
		"invalid-token-both-places.yaml":        "reports.token: deprecated and set together with http.token or http.token_file; keep only the http keys (line 2)",
		"invalid-protect-metrics-no-token.yaml": "http.protect_metrics: needs http.token or http.token_file (line 2)",
		// every problem in one run, in document order, each with its line
		"invalid-many.yaml": "kafka.brokers[0]: \"localhost\" is not host:port (line 2)\n" +
			"kafka.dial_timeout: cannot parse \"10\" as a duration (use a unit, e.g. 30s or 5m) (line 3)\n" +
			"kafka.tls.enabled: cannot parse \"maybe\" as a boolean (true or false) (line 5)\n" +
			"sampel: unknown field (line 6)\n" +
			"sample.topics_include: [1] \"[\": error parsing regexp: missing closing ]: `[)$` (line 9)\n" +
			"lag.interval: must be >= 1s, got 10ms (line 11)\n" +
			"lag.granularity: must be \"topic\" or \"partition\", got \"cluster\" (line 12)\n" +
			"log.level: unknown level \"verbose\" (want debug, info, warn or error) (line 14)",
		// derived errors left out: store.example_retention (checked against
		// the bad retention) and trace.routing.replay (against trace.window)
		"invalid-derived.yaml": "store.retention_weeks: must be between 1 and 520, got 0 (line 2)\n" +
			"trace.window: cannot parse \"10\" as a duration (use a unit, e.g. 30s or 5m) (line 4)",
	}
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("%d invalid-*.yaml files, %d test cases: keep them in step", len(files), len(tests))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := tests[name]
			if !ok {
				t.Fatalf("no expected error for %s", name)
			}
			_, err := Load(f)
			if err == nil {
				t.Fatalf("loaded without error")
			}
			got := strings.TrimPrefix(err.Error(), f+": ")
			if want == "" {
				t.Logf("error text: %q", got)
				t.Fatalf("set the expected text")
			}
			if got != want {
				t.Fatalf("error:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestEmptyFileIsDefault(t *testing.T) {
	f := filepath.Join(t.TempDir(), "empty.yaml")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != DefaultHTTPAddr || c.Audit.Profile != "huleedu" || c.Kafka.Brokers[0] != "localhost:9092" {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestFileOverridesDefaults(t *testing.T) {
	c, err := Parse([]byte("kafka:\n  brokers: [a:1, b:2]\nhttp:\n  addr: 127.0.0.1:9999\nlog:\n  format: text\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Kafka.Brokers) != 2 || c.HTTP.Addr != "127.0.0.1:9999" || c.Log.Format != "text" {
		t.Fatalf("file values lost: %+v", c)
	}
	if c.Log.Level != "info" || c.Kafka.ClientID != "eventwatch" {
		t.Fatalf("defaults of unset keys lost: %+v", c)
	}
}

// TestDuplicateStoreDefaultsOn: audit.duplicate_store is on unless the
// file turns it off.
func TestDuplicateStoreDefaultsOn(t *testing.T) {
	for doc, want := range map[string]bool{"": true, "audit:\n  duplicate_store: false\n": false, "audit:\n  duplicate_store: true\n": true} {
		c, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if c.Audit.DuplicateStore != want {
			t.Errorf("%q: duplicate_store = %v, want %v", doc, c.Audit.DuplicateStore, want)
		}
	}
}

// TestReferenceConfigIsDefaults: docs/reference-config.yaml loads, and
// every key it sets has the default value (compared through YAML, so
// compiled regexes and other unexported state do not matter).
func TestReferenceConfigIsDefaults(t *testing.T) {
	ref, err := Load(filepath.Join("..", "..", "docs", "reference-config.yaml"))
	if err != nil {
		t.Fatalf("load reference: %v", err)
	}
	def, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, want := mustYAML(t, ref), mustYAML(t, def)
	if got != want {
		t.Fatalf("docs/reference-config.yaml differs from the defaults (update the file):\n%s", lineDiff(got, want))
	}
	// Every section of Config appears in the reference.
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "reference-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range topLevelKeys() {
		if !strings.Contains(string(data), "\n"+key+":") {
			t.Errorf("reference config lacks the %s section", key)
		}
	}
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func topLevelKeys() []string {
	var keys []string
	for k := range strictyaml.Fields(reflect.TypeFor[Config]()) {
		keys = append(keys, k)
	}
	return keys
}

// lineDiff lists the lines that differ between got and want, position by
// position (both are YAML dumps of the same struct, so lines align).
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  reference: %s\n  default:   %s\n", i+1, gl, wl)
		}
	}
	return b.String()
}
