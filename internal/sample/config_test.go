package sample

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"
)

func decode(t *testing.T, src string) (Config, error) {
	t.Helper()
	var c Config
	c.SetDefaults()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode %q: %v", src, err)
	}
	return c, c.Validate()
}

func TestConfigDefaults(t *testing.T) {
	c, err := decode(t, "group_id: eventwatch\n")
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.GroupID != "eventwatch" || c.StartFrom != StartLatest || c.BudgetPerPartition != 100 ||
		c.MetadataRefresh != 30*time.Second || c.MaxQueue != 4096 || c.MaxSourceServices != 200 {
		t.Errorf("unexpected defaults: %+v", c)
	}
	for topic, want := range map[string]bool{
		"orders": true, "huleedu.dev.essay": true, "__consumer_offsets": false, "__transaction_state": false,
		"_schemas": false, "_confluent-metrics": false, "connect-offsets": false, "docker-connect-status": false,
		"connect-cluster-configs": false, "my_schemas": true, "connector-events": true,
	} {
		if got := c.WantTopic(topic); got != want {
			t.Errorf("WantTopic(%q) = %v, want %v", topic, got, want)
		}
	}
}

func TestConfigOverrides(t *testing.T) {
	c, err := decode(t, "topics_include: ['huleedu\\..*']\ntopics_exclude: []\nstart_from: '2026-01-02T03:04:05Z'\nbudget_per_partition: 2.5\nmetadata_refresh: 5s\n")
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !c.WantTopic("huleedu.x") || c.WantTopic("other") || c.WantTopic("xhuleedu.x") {
		t.Errorf("include regex is not anchored or not applied")
	}
	if c.MetadataRefresh != 5*time.Second || c.BudgetPerPartition != 2.5 {
		t.Errorf("overrides not applied: %+v", c)
	}
}

func TestConfigInvalid(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"budget_per_partition: -1", "sample.budget_per_partition: must be > 0, got -1"},
		{"group_id: ' '", "sample.group_id: must not be empty"},
		{"metadata_refresh: 10ms", "sample.metadata_refresh: must be >= 1s, got 10ms"},
		{"start_from: yesterday", `sample.start_from: must be "latest", "earliest" or an RFC 3339 timestamp, got "yesterday"`},
		{"topics_include: ['(']", "sample.topics_include: [0] \"(\": error parsing regexp: missing closing ): `^(?:()$`"},
		{"max_queue: -3", "sample.max_queue: must be >= 1, got -3"},
		{"workers: -1", "sample.workers: must be >= 1, got -1"},
		{"fetch_max_bytes: 1024\nfetch_max_partition_bytes: 2048", "sample.fetch_max_partition_bytes: must be <= fetch_max_bytes (1024), got 2048"},
		{"commit_interval: 1ms", "sample.commit_interval: must be >= 100ms, got 1ms"},
	} {
		_, err := decode(t, tc.yaml)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: error = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestConfigUnknownKey(t *testing.T) {
	var c Config
	dec := yaml.NewDecoder(strings.NewReader("budget: 3\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err == nil || !strings.Contains(err.Error(), "field budget not found") {
		t.Errorf("unknown key error = %v", err)
	}
}

func TestParseStart(t *testing.T) {
	for in, want := range map[string]kgo.Offset{
		"latest":               kgo.NewOffset().AtStart(), // moved per partition by adjustStart
		"earliest":             kgo.NewOffset().AtStart(),
		"2026-01-01T00:00:00Z": kgo.NewOffset().AfterMilli(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()),
	} {
		o, err := parseStart(in)
		if err != nil {
			t.Fatalf("parseStart(%q): %v", in, err)
		}
		if o != want {
			t.Errorf("parseStart(%q) = %s, want %s", in, o, want)
		}
	}
}

// TestFetchMaxWaitReachesTheClient: the sampler's consumer waits
// sample.fetch_max_wait at the broker (default 15s: an idle estate's
// fetch over every partition is sent a third as often as with franz-go's
// 5s), and the key is checked.
func TestFetchMaxWaitReachesTheClient(t *testing.T) {
	for src, want := range map[string]time.Duration{"{}": 15 * time.Second, "fetch_max_wait: 500ms": 500 * time.Millisecond} {
		c, err := decode(t, src)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(c.clientOpts([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, true)...)
		if err != nil {
			t.Fatal(err)
		}
		got := cl.OptValue(kgo.FetchMaxWait)
		cl.Close()
		if got != want {
			t.Errorf("%s: the client's fetch max wait is %v, want %v", src, got, want)
		}
	}
	if _, err := decode(t, "fetch_max_wait: 2m"); err == nil || !strings.Contains(err.Error(), "sample.fetch_max_wait") {
		t.Errorf("a 2m fetch wait was accepted (%v)", err)
	}
}
