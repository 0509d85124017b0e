package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseOffsets(t *testing.T) {
	got, err := parseOffsets("0:5-9, 2:7")
	if err != nil || len(got) != 2 || got[0].From != 5 || got[0].To != 9 || got[1].Partition != 2 || got[1].To != 7 {
		t.Fatalf("parseOffsets = %+v, %v", got, err)
	}
	for _, bad := range []string{"x:1-2", "0:9-5", "0", "-1:1-2"} {
		if _, err := parseOffsets(bad); err == nil {
			t.Errorf("parseOffsets(%q) accepted", bad)
		}
	}
}

// TestDLQUsage: bad flags are usage errors (exit 2) with a reason, before
// any request.
func TestDLQUsage(t *testing.T) {
	for _, args := range [][]string{
		{"dlq"}, {"dlq", "nope"}, {"dlq", "replay", "--url", "http://127.0.0.1:1"},
		{"dlq", "replay", "--topic", "t", "--offsets", "0:9-1"}, {"dlq", "show", "--record", "t@x"},
		{"dlq", "list", "--format", "yaml"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a reason", args, code, strings.TrimSpace(errb.String()))
		}
	}
}
