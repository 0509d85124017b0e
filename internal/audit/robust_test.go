package audit

import (
	"github.com/eventwatch/eventwatch/internal/event"
	"github.com/eventwatch/eventwatch/internal/policy"

	"bytes"
	"strings"
	"testing"
)

// TestCheckBadInputs feeds every kind of hostile value DESIGN.md lists and
// checks the engine answers with the documented outcome instead of
// panicking or stalling.
func TestCheckBadInputs(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(`{"data":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	tenMB := huleEvent(map[string]string{"data": `{"text":"` + strings.Repeat("lorem ipsum ", 10<<20/12) + `"}`})
	cases := []struct {
		name  string
		value []byte
		rules []string // exact violation rule ids (huleedu, no topic)
		check func(t *testing.T, r event.Result)
	}{
		{name: "not json", value: []byte("hello world"), rules: []string{"envelope.invalid_json"}},
		{name: "binary", value: []byte{0x00, 0x00, 0x00, 0x01, 0xC3, 0x28, 0xFF}, rules: []string{"envelope.invalid_json"}},
		{name: "truncated", value: huleEvent(nil)[:100], rules: []string{"envelope.invalid_json"}},
		{name: "array", value: []byte(`[` + string(huleEvent(nil)) + `]`), rules: []string{"envelope.invalid_json"}},
		{name: "string scalar", value: []byte(`"event"`), rules: []string{"envelope.invalid_json"}},
		{name: "number scalar", value: []byte(`12`), rules: []string{"envelope.invalid_json"}},
		{name: "json null value", value: []byte(`null`), rules: []string{"envelope.invalid_json"}},
		{name: "empty value", value: []byte{}, rules: []string{"envelope.invalid_json"}},
		{name: "whitespace only", value: []byte(" \n\t "), rules: []string{"envelope.invalid_json"}},
		{name: "10 MB value", value: tenMB, rules: []string{"size.blob_field", "size.event_too_large"},
			check: func(t *testing.T, r event.Result) {
				if r.Size != len(tenMB) || r.EventType == "" {
					t.Errorf("size %d, type %q", r.Size, r.EventType)
				}
			}},
		{name: "100k-deep nesting", value: deep(100000), rules: []string{"envelope.invalid_json", "size.event_too_large"},
			check: func(t *testing.T, r event.Result) {
				if !strings.Contains(r.Violations[0].Message, "nesting deeper than 64 levels") {
					t.Errorf("message %q", r.Violations[0].Message)
				}
			}},
		{name: "nesting at the cap", value: deep(63), rules: []string{"envelope.missing_field", "envelope.missing_field",
			"envelope.missing_field", "envelope.missing_field", "envelope.wrong_type", "trace.missing_correlation_id"}},
		{name: "invalid utf-8 in a value", value: []byte("{\"event_id\":\"\xed\xa0\x80\"}"), rules: []string{"envelope.invalid_json"}},
		{name: "invalid utf-8 in a key", value: []byte("{\"\xc0\xaf\":1}"), rules: []string{"envelope.invalid_json"}},
		{name: "duplicate keys: last wins", value: huleEvent(map[string]string{"event_id": `"bad","event_id":"3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0c"`}),
			check: func(t *testing.T, r event.Result) {
				if r.EventID != "3f2b7c1e-9a4d-4e8b-b1c2-5d6e7f8a9b0c" {
					t.Errorf("EventID %q, want the last duplicate", r.EventID)
				}
			}},
		{name: "huge numbers", value: huleEvent(map[string]string{"data": `{"n":1e999999,"m":` + strings.Repeat("9", 5000) + `,"f":-0.000000000000000000001E-400}`})},
		{name: "escaped envelope strings", value: huleEvent(map[string]string{"source_service": `"essay\u005flifecycle\u005fservice"`, "event_type": `"huleedu.essaylifecycle.essay.spellcheck_requested.v1"`}),
			check: func(t *testing.T, r event.Result) {
				if r.Source != "essay_lifecycle_service" {
					t.Errorf("Source %q", r.Source)
				}
			}},
		{name: "escaped key", value: bytes.Replace(huleEvent(nil), []byte(`"event_id"`), []byte(`"event\u005fid"`), 1)},
		{name: "lone surrogate escape", value: huleEvent(map[string]string{"data": `{"s":"\ud800"}`})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := newTestEngine(t, "huleedu").Check(&event.Record{Value: tc.value})
			if got := ruleIDs(res); strings.Join(got, ",") != strings.Join(tc.rules, ",") {
				t.Fatalf("rules %v, want %v\n%+v", got, tc.rules, res.Violations)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

// TestCheckTombstone: a nil value is a delete marker on a compacted topic,
// counted (Result.Tombstone) but not a violation, under both profiles.
func TestCheckTombstone(t *testing.T) {
	for _, p := range policy.BuiltinProfiles() {
		res := newTestEngine(t, p).Check(&event.Record{Topic: "content", Key: []byte("bk-1"), Value: nil})
		if !res.Tombstone || len(res.Violations) != 0 || res.Size != 0 {
			t.Errorf("%s: tombstone result %+v", p, res)
		}
	}
}

// TestCheckConcurrent runs many goroutines over a shared engine (run with
// -race) and checks each result matches the sequential answer.
func TestCheckConcurrent(t *testing.T) {
	e := newTestEngine(t, "authorworks", withCatalog(exampleCatalog(t, "authorworks")), func(o *Options) { o.DriftLearnEvents = 3 })
	values := [][]byte{awEvent(nil), awEvent(map[string]string{"meta.id": `"x"`}), []byte("{"), awEvent(map[string]string{"data": `{"title":3}`})}
	want := make([]string, len(values))
	for i, v := range values {
		res := e.Check(&event.Record{Topic: "content", Key: []byte("k"), Value: v})
		want[i] = strings.Join(ruleIDs(res), ",")
	}
	done := make(chan string, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for n := 0; n < 300; n++ {
				i := n % len(values)
				res := e.Check(&event.Record{Topic: "content", Key: []byte("k"), Value: values[i]})
				got := strings.ReplaceAll(strings.Join(ruleIDs(res), ","), "duplicate.event_id", "")
				if strings.Trim(strings.ReplaceAll(got, ",,", ","), ",") != strings.Trim(strings.ReplaceAll(strings.ReplaceAll(want[i], "duplicate.event_id", ""), ",,", ","), ",") {
					done <- got + " != " + want[i]
					return
				}
			}
			done <- ""
		}()
	}
	for g := 0; g < 8; g++ {
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
	}
}
