package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunConfigCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := write("valid.yaml", "kafka:\n  brokers: [\"127.0.0.1:9092\"]\n")
	unknown := write("unknown.yaml", "kafka:\n  bokers: [\"127.0.0.1:9092\"]\n")
	noPolicy := write("nopolicy.yaml", "audit:\n  policy: "+filepath.Join(dir, "missing-policy.yaml")+"\n")
	unsetSecret := write("secret.yaml", "kafka:\n  sasl:\n    mechanism: PLAIN\n    username: u\n    password: ${EW_CMD_TEST_UNSET}\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"valid", []string{"--config", valid, "--config.check"}, 0, "configuration is valid"},
		{"unknown key", []string{"--config", unknown, "--config.check"}, 1, "kafka.bokers: unknown field (line 2)"},
		{"missing policy file", []string{"--config", noPolicy, "--config.check"}, 1, "audit.policy: "},
		{"unset secret", []string{"--config", unsetSecret, "--config.check"}, 1, "kafka.sasl.password: environment variable EW_CMD_TEST_UNSET is not set"},
		{"no config", []string{"--config.check"}, 2, "usage: eventwatch run --config FILE"},
		{"bad flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"missing file", []string{"--config", filepath.Join(dir, "absent.yaml")}, 1, "read config: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := cmdRun(context.Background(), tc.args, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String()+errOut.String(), tc.contains) {
				t.Fatalf("output lacks %q: stdout %q stderr %q", tc.contains, out.String(), errOut.String())
			}
		})
	}
}

func TestDemoUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := cmdDemo(context.Background(), []string{"--bogus"}, &out, &errOut); code != 2 {
		t.Fatalf("bad flag: exit %d", code)
	}
	if code := cmdDemo(context.Background(), []string{"extra"}, &out, &errOut); code != 2 {
		t.Fatalf("extra argument: exit %d", code)
	}
	if code := cmdDemo(context.Background(), []string{"--kafka-addr", "nonsense"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "kafka address") {
		t.Fatalf("bad kafka address: exit %d, stderr %q", code, errOut.String())
	}
}
