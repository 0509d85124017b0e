package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpusDir = "../../internal/audit/testdata/corpus"

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if stdin != "" {
		f := filepath.Join(t.TempDir(), "in.ndjson")
		if err := os.WriteFile(f, []byte(stdin), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCmdCheckExitCodes(t *testing.T) {
	compliant := `{"event_id":"3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0c","event_type":"huleedu.essaylifecycle.essay.spellcheck_requested.v1",` +
		`"event_timestamp":"2026-03-01T10:00:00Z","source_service":"essay_lifecycle_service","correlation_id":null,"data":{"text_storage_id":"s3://x"}}` + "\n"
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string
	}{
		{"compliant", compliant, []string{"check", "--format", "json"}, 0, `"compliant":1`},
		{"malformed line is a violation", "{oops\n", []string{"check", "--profile", "huleedu"}, 1, "envelope.invalid_json: 1"},
		{"corpus fails", "", []string{"check", "--profile", "authorworks", "--format", "json", filepath.Join(corpusDir, "authorworks.ndjson")}, 1, `"summary"`},
		{"with catalog", "", []string{"check", "--profile", "huleedu", "--catalog", "../../examples/catalog/huleedu", filepath.Join(corpusDir, "huleedu.ndjson")}, 1, "catalog.producer_mismatch: 1"},
		{"missing file", "", []string{"check", "/nonexistent/events.ndjson"}, 2, ""},
		{"unknown profile", compliant, []string{"check", "--profile", "acme"}, 2, ""},
		{"both profile and policy", compliant, []string{"check", "--profile", "huleedu", "--policy", "x.yaml"}, 2, ""},
		{"bad format", compliant, []string{"check", "--format", "xml"}, 2, ""},
		{"bad flag", compliant, []string{"check", "--nope"}, 2, ""},
		{"bad catalog", compliant, []string{"check", "--catalog", "/nonexistent"}, 2, ""},
		{"policy", compliant, []string{"check", "--policy", "../../examples/policies/huleedu.yaml"}, 0, "1 events, 1 compliant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out, tc.out) {
				t.Fatalf("stdout lacks %q:\n%s", tc.out, out)
			}
			if tc.code == 2 && errOut == "" {
				t.Fatal("usage/input error without a message on stderr")
			}
		})
	}
}

func TestCmdRules(t *testing.T) {
	code, out, _ := runCmd(t, "", "rules", "--format", "json", "--profile", "authorworks")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rows []ruleRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	sev := map[string]string{}
	for _, r := range rows {
		sev[r.ID] = r.ProfileSeverity
	}
	if sev["key.missing"] != "error" || sev["size.blob_field"] != "off" || sev["catalog.no_consumer"] == "" {
		t.Fatalf("authorworks severities: %v", sev)
	}
	for _, format := range []string{"text", "markdown"} {
		code, out, _ = runCmd(t, "", "rules", "--format", format)
		if code != 0 || !strings.Contains(out, "envelope.invalid_json") || !strings.Contains(out, "topic.replication_factor") {
			t.Fatalf("rules --format %s: exit %d\n%s", format, code, out)
		}
	}
	if code, _, _ = runCmd(t, "", "rules", "--format", "yaml"); code != 2 {
		t.Fatalf("bad format exit %d, want 2", code)
	}
}
