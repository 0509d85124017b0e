package policy

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadPolicyInvalid loads each testdata/policies/invalid-*.yaml and
// compares the exact error text (blackbox_exporter style).
func TestLoadPolicyInvalid(t *testing.T) {
	want := map[string]string{
		"invalid-unknown-field.yaml":  "invalid-unknown-field.yaml: rules.size.max_bytez: unknown field (line 9)",
		"invalid-max-bytes.yaml":      "invalid-max-bytes.yaml: rules.size.max_bytes: must be > 0 (line 8)",
		"invalid-severity.yaml":       `invalid-severity.yaml: severities.naming.topic: must be error, warning or off (got "fatal") (line 10)`,
		"invalid-rule-id.yaml":        "invalid-rule-id.yaml: severities.naming.colour: unknown rule id (line 10)",
		"invalid-waiver-reason.yaml":  "invalid-waiver-reason.yaml: waivers[0].reason: is required (line 10)",
		"invalid-waiver-date.yaml":    `invalid-waiver-date.yaml: waivers[0].expires: must be a date YYYY-MM-DD (got "next year") (line 13)`,
		"invalid-waiver-rule.yaml":    `invalid-waiver-rule.yaml: waivers[0].rule: unknown rule id "key.absent" (line 11)`,
		"invalid-regexp.yaml":         "invalid-regexp.yaml: rules.naming.event_type: invalid regular expression: error parsing regexp: missing closing ]: `[a-z` (line 10)",
		"invalid-duration.yaml":       `invalid-duration.yaml: rules.timestamp.max_future: cannot parse "1 week" as a duration (use a unit, e.g. 30s or 5m) (line 10)`,
		"invalid-int.yaml":            `invalid-int.yaml: rules.size.max_bytes: cannot parse "lots" as an integer (line 8)`,
		"invalid-role.yaml":           "invalid-role.yaml: envelope.fields.idd: unknown envelope role (want one of id, type, version, timestamp, correlation_id, source, trace_id, span_id, data) (line 6)",
		"invalid-format.yaml":         `invalid-format.yaml: envelope.fields.id.format: must be uuid, uuid_v4 or rfc3339_utc (got "ulid") (line 4)`,
		"invalid-topic-glob.yaml":     `invalid-topic-glob.yaml: topics[0].match: invalid glob "[legacy" (line 10)`,
		"invalid-no-name.yaml":        "invalid-no-name.yaml: name: is required",
		"invalid-no-type.yaml":        "invalid-no-type.yaml: envelope.fields.type: is required (line 3)",
		"invalid-path-clash.yaml":     `invalid-path-clash.yaml: envelope.fields.type.path: path "meta.id" already used by id (line 5)`,
		"invalid-topic-severity.yaml": `invalid-topic-severity.yaml: topics[0].severities.key.missing: must be error, warning or off (got "sometimes") (line 12)`,
		"invalid-cluster.yaml":        "invalid-cluster.yaml: cluster.min_brokers: must be >= 0 (line 10)",
		"invalid-nested-unknown.yaml": "invalid-nested-unknown.yaml: topics[0].max_byte: unknown field (line 11)",
		"invalid-empty.yaml":          "invalid-empty.yaml: policy is empty",
		"invalid-not-yaml.yaml":       "invalid-not-yaml.yaml: parse yaml: yaml: line 1: did not find expected ',' or ']'",
	}
	files, err := filepath.Glob(filepath.Join("testdata", "policies", "invalid-*.yaml"))
	if err != nil || len(files) != len(want) {
		t.Fatalf("testdata has %d invalid policies, the table %d (%v)", len(files), len(want), err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			_, err := LoadPolicy(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if err.Error() != want[name] {
				t.Fatalf("error\n got %s\nwant %s", err, want[name])
			}
		})
	}
}

func TestLoadPolicyMissingFile(t *testing.T) {
	if _, err := LoadPolicy("testdata/policies/nope.yaml"); err == nil {
		t.Fatal("no error for a missing file")
	}
	if _, err := LoadProfile("acme"); err == nil {
		t.Fatal("no error for an unknown profile")
	}
}

func TestProfileClusterAndDLQ(t *testing.T) {
	aw, _ := LoadProfile("authorworks")
	if aw.Cluster.MinReplicationFactor != 3 || aw.Cluster.MinBrokers != 3 || aw.Cluster.DLQRetention != 720*time.Hour ||
		aw.Cluster.DefaultRetention != 168*time.Hour {
		t.Fatalf("authorworks cluster policy: %+v", aw.Cluster)
	}
	if !aw.IsDLQTopic("content.deadletter") || aw.IsDLQTopic("content") {
		t.Fatal("authorworks IsDLQTopic")
	}
	hu, _ := LoadProfile("huleedu")
	for _, topic := range []string{"a.deadletter", "a.dlq", "a-dlq", "a.DLQ"} {
		if !hu.IsDLQTopic(topic) {
			t.Errorf("huleedu IsDLQTopic(%q) = false", topic)
		}
	}
	if _, ok := hu.RuleSeverity("topic.replication_factor", ""); ok {
		t.Error("huleedu does not require a replication factor")
	}
}

// TestLoadSectionChoosesAndNamesTheKey: a policy file wins over the profile
// name, and an error names the section key that failed.
func TestLoadSectionChoosesAndNamesTheKey(t *testing.T) {
	custom := filepath.Join("..", "..", "examples", "policies", "custom.yaml")
	p, err := LoadSection("audit", "huleedu", custom)
	if err != nil || p.Name != "acme-authorworks" {
		t.Fatalf("LoadSection with a policy file: %v; want the file's profile acme-authorworks", err)
	}
	if p, err = LoadSection("audit", "authorworks", ""); err != nil || p.Name != "authorworks" {
		t.Fatalf("LoadSection without a policy file: %v; want the built-in authorworks", err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"huleedu", "testdata/policies/nope.yaml", "audit.policy: read policy: "},
		{"acme", "", `audit.profile: load profile: unknown profile "acme"`},
		{"huleedu", "testdata/policies/invalid-max-bytes.yaml", "audit.policy: invalid-max-bytes.yaml: rules.size.max_bytes: must be > 0 (line 8)"},
	} {
		_, err := LoadSection("audit", tc.name, tc.file)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("LoadSection(%q, %q) = %v, want an error starting %q", tc.name, tc.file, err, tc.want)
		}
	}
}
