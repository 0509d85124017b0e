package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateAllMatchesCommittedFiles is the freshness check of `make
// check-generated` in Go: a fresh `generate all` equals what is committed.
func TestGenerateAllMatchesCommittedFiles(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"generate", "all", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("generate all = %d: %s", code, stderr.String())
	}
	written := strings.Fields(stdout.String())
	if len(written) < 9 {
		t.Fatalf("generate all wrote %d files, want dashboards, alerts and docs: %v", len(written), written)
	}
	for _, p := range written {
		rel, err := filepath.Rel(out, p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("..", "..", rel))
		if err != nil {
			t.Errorf("%s is generated but not committed: %v", rel, err)
			continue
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("%s is stale: run 'make generate'", rel)
		}
	}
}

func TestGenerateAlertsFlagsChangeThresholds(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"generate", "alerts", "--out", out, "--compliance-objective", "0.8",
		"--job", "ew-prod", "--for", "0s", "--evaluation-interval", "5s"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("generate alerts = %d: %s", code, stderr.String())
	}
	rules, err := os.ReadFile(filepath.Join(out, "alerts", "eventwatch.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"< 0.8)\n", `up{job="ew-prod"}`, "for: 0s", "interval: 5s", "the objective is 80%."} {
		if !bytes.Contains(rules, []byte(want)) {
			t.Errorf("rules lack %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "dashboards")); !os.IsNotExist(err) {
		t.Errorf("generate alerts also wrote dashboards (stat: %v)", err)
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"generate"}, 2, "usage: eventwatch generate"},
		{[]string{"generate", "grafana"}, 2, "usage: eventwatch generate"},
		{[]string{"generate", "alerts", "--compliance-objective", "2", "--out", "x"}, 2, "compliance objective must be in (0, 1]"},
		{[]string{"generate", "alerts", "--compliance-window", "soon"}, 2, "invalid value"},
		{[]string{"generate", "all", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"generate", "-h"}, 0, "usage: eventwatch generate"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v = %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
	}
}

// TestGenerateListCoversEveryWrittenPath ties `generate list` (what make
// check-generated compares) to what `generate all` writes: every written
// file lies under a listed path and every listed path is written.
func TestGenerateListCoversEveryWrittenPath(t *testing.T) {
	var list, stderr bytes.Buffer
	if code := run(context.Background(), []string{"generate", "list"}, &list, &stderr); code != 0 {
		t.Fatalf("generate list = %d: %s", code, stderr.String())
	}
	listed := strings.Fields(list.String())
	out := t.TempDir()
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"generate", "all", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("generate all = %d: %s", code, stderr.String())
	}
	used := map[string]bool{}
	for _, p := range strings.Fields(stdout.String()) {
		rel, err := filepath.Rel(out, p)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		found := false
		for _, l := range listed {
			if rel == l || strings.HasPrefix(rel, l+"/") {
				used[l], found = true, true
			}
		}
		if !found {
			t.Errorf("generate all writes %s, which generate list (make check-generated) does not name", rel)
		}
	}
	for _, l := range listed {
		if !used[l] {
			t.Errorf("generate list names %s but generate all writes nothing there", l)
		}
	}
}
