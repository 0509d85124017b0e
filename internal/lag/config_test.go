package lag

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func loadConfig(t *testing.T, file string) (Config, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	c.SetDefaults()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	return c, c.Validate()
}

func TestConfigInvalid(t *testing.T) {
	tests := map[string]string{
		"invalid-interval.yml":    "lag.interval: must be >= 1s, got 500ms",
		"invalid-granularity.yml": `lag.granularity: must be "topic" or "partition", got "member"`,
		"invalid-regex.yml":       "lag.groups_exclude: [1] \"(unclosed\": error parsing regexp: missing closing ): `^(?:(unclosed)$`",
		"invalid-allowed-lag.yml": "lag.allowed_lag: must be >= 0, got -1\n" +
			"lag.allowed_lag_groups[0].groups: invalid regex \"(bad\": error parsing regexp: missing closing ): `^(?:(bad)$`",
		"invalid-window.yml": "lag.status_window: must be >= 3, got 2\n" +
			`lag.dlq_patterns[0]: invalid glob "[.dlq": syntax error in pattern`,
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			_, err := loadConfig(t, file)
			if err == nil || err.Error() != want {
				t.Fatalf("Validate() = %v\nwant %s", err, want)
			}
		})
	}
}

func TestConfigValid(t *testing.T) {
	c, err := loadConfig(t, "valid.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != 30*time.Second || c.Granularity != GranularityPartition || c.StatusWindow != 20 ||
		c.MaxConcurrent != 4 || c.OffsetsTableSize != 60 || len(c.DLQPatterns) != 1 {
		t.Fatalf("decoded config = %+v", c)
	}
	for group, want := range map[string]int64{"orders-eu": 5, "billing": 1, "billing-x": 0} {
		if got := c.allowedLag(group); got != want {
			t.Errorf("allowedLag(%q) = %d, want %d", group, got, want)
		}
	}
	for group, want := range map[string]bool{"orders-eu": true, "billing": true, "billing-x": false, "audit": false} {
		if got := c.wantGroup(group); got != want {
			t.Errorf("wantGroup(%q) = %v, want %v", group, got, want)
		}
	}
	for topic, want := range map[string]bool{"orders": true, "__consumer_offsets": false, "_schemas": false} {
		if got := c.wantTopic(topic); got != want {
			t.Errorf("wantTopic(%q) = %v, want %v", topic, got, want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	want := []string{"*.deadletter", "*.dlq", "*-dlq", "*.DLQ", "*.DLT", "*-dlt"}
	if len(c.DLQPatterns) != len(want) {
		t.Fatalf("DLQ patterns = %v, want %v", c.DLQPatterns, want)
	}
	for topic, base := range map[string]string{"content.deadletter": "content", "orders.created.dlq": "orders.created",
		"payments-dlq": "payments", "INGEST.DLQ": "INGEST",
		"orders.DLT": "orders", "orders-dlt": "orders"} {
		got, ok := dlqBase(c.DLQPatterns, topic)
		if !ok || got != base {
			t.Errorf("dlqBase(%q) = %q, %v; want %q", topic, got, ok, base)
		}
	}
	if _, ok := dlqBase(c.DLQPatterns, "orders.created"); ok {
		t.Error("orders.created taken for a DLQ")
	}
	var unset Config // exported helper applies the default patterns
	if base, ok := unset.DLQBase("billing-dlq"); !ok || base != "billing" {
		t.Errorf("DLQBase(billing-dlq) = %q, %v; want billing", base, ok)
	}
}
