package check

import (
	"github.com/eventwatch/eventwatch/internal/policy"

	"github.com/eventwatch/eventwatch/internal/event"

	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// TestCheckStreamGolden audits the testdata corpus of each profile (with the
// example catalog) and compares the text and JSON reports with golden files.
func TestCheckStreamGolden(t *testing.T) {
	for _, profile := range policy.BuiltinProfiles() {
		for _, format := range []string{"json", "text"} {
			t.Run(profile+"/"+format, func(t *testing.T) {
				e := newTestEngine(t, profile, true)
				in, err := os.Open(filepath.Join("..", "audit", "testdata", "corpus", profile+".ndjson"))
				if err != nil {
					t.Fatal(err)
				}
				defer in.Close()
				var out bytes.Buffer
				sum, err := Run(context.Background(), e, in, &out, format)
				if err != nil {
					t.Fatal(err)
				}
				if !sum.Failed() || sum.Tombstones != 1 {
					t.Errorf("summary %+v: the corpus has failing events and one tombstone", sum)
				}
				compareGolden(t, filepath.Join("testdata", "golden", profile+"."+format), out.Bytes())
			})
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (run go test -update and review the diff)\n--- got\n%s", path, got)
	}
}

// TestCheckStreamJSONContract checks the JSON shape of DESIGN.md: one
// object per line with line, topic, offset, event_id, event_type and
// violations, then one summary object.
func TestCheckStreamJSONContract(t *testing.T) {
	e := newTestEngine(t, "huleedu", false)
	in := strings.Join([]string{
		huleEvent(t, nil),
		"",
		`{"topic":"huleedu.dev.essaylifecycle.essay","partition":2,"offset":41,"key":"essay-42","headers":{"traceparent":"x"},"timestamp":1772366340500,"value":` + huleEvent(t, map[string]string{"event_id": `"nope"`}) + `}`,
		`{not json`,
	}, "\n")
	var out bytes.Buffer
	sum, err := Run(context.Background(), e, strings.NewReader(in), &out, "json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 3 line objects and a summary, got %d lines:\n%s", len(lines), out.String())
	}
	var first, third map[string]any
	mustJSON(t, lines[0], &first)
	mustJSON(t, lines[1], &third)
	for _, k := range []string{"line", "topic", "offset", "event_id", "event_type", "violations"} {
		if _, ok := first[k]; !ok {
			t.Errorf("line object lacks %q: %s", k, lines[0])
		}
	}
	if third["line"] != 3.0 || third["topic"] != "huleedu.dev.essaylifecycle.essay" || third["offset"] != 41.0 {
		t.Errorf("kcat record fields: %s", lines[1])
	}
	var s struct {
		Summary Summary `json:"summary"`
	}
	mustJSON(t, lines[3], &s)
	if s.Summary.Events != 3 || s.Summary.Compliant != 1 || s.Summary.ViolationsByRule["envelope.invalid_json"] != 1 ||
		s.Summary.ViolationsByRule["envelope.invalid_uuid"] != 1 || sum.Events != 3 {
		t.Errorf("summary: %s", lines[3])
	}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, s)
	}
}

// TestCheckStreamLongLine feeds a 5 MiB line: no scanner limit applies.
func TestCheckStreamLongLine(t *testing.T) {
	e := newTestEngine(t, "huleedu", false)
	big := huleEvent(t, map[string]string{"data": `{"text":"` + strings.Repeat("a", 5<<20) + `"}`})
	var out bytes.Buffer
	sum, err := Run(context.Background(), e, strings.NewReader(big+"\n"+huleEvent(t, nil)), &out, "json")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 2 || sum.ViolationsByRule["size.event_too_large"] != 1 || sum.ViolationsByRule["size.blob_field"] != 1 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestParseInputLine(t *testing.T) {
	cases := []struct {
		line    string
		wrapped bool
		check   func(event.Record) bool
	}{
		{`{"event_id":"x"}`, false, func(r event.Record) bool { return string(r.Value) == `{"event_id":"x"}` }},
		{`{"topic":"t","partition":1,"offset":9,"key":null,"payload":"{\"a\":1}","ts":1000,"headers":["h","v","n",null]}`, true,
			func(r event.Record) bool {
				return r.Topic == "t" && r.Partition == 1 && r.Offset == 9 && r.Key == nil && string(r.Value) == `{"a":1}` &&
					r.Timestamp.UnixMilli() == 1000 && len(r.Headers) == 2 && string(r.Headers[0].Value) == "v"
			}},
		{`{"topic":"t","offset":1,"value":null}`, true, func(r event.Record) bool { return r.Value == nil }},
		{`{"topic":"t","offset":1,"key":{"id":1},"value":{"a":1},"timestamp":"2026-03-01T10:00:00Z"}`, true,
			func(r event.Record) bool {
				return string(r.Key) == `{"id":1}` && string(r.Value) == `{"a":1}` && r.Timestamp.Hour() == 10
			}},
		{`{"value":{"a":1}}`, false, func(r event.Record) bool { return r.Topic == "" }},
		{`not json`, false, func(r event.Record) bool { return string(r.Value) == "not json" }},
	}
	for _, tc := range cases {
		rec, wrapped := ParseInputLine([]byte(tc.line))
		if wrapped != tc.wrapped || !tc.check(rec) {
			t.Errorf("ParseInputLine(%s) = %+v, wrapped=%v", tc.line, rec, wrapped)
		}
	}
}
